import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Certificates generated per run with the openssl CLI: a CA, the API server's serving
 * certificate, the admin client certificate (CN=admin, O=system:masters) and the
 * service-account signing key. EC keys, because they are generated in milliseconds.
 */
export interface Certificates {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new Error(
      `openssl ${args[0] ?? ""} failed while generating test certificates: ${stderr}`,
      {
        cause: error,
      },
    );
  }
}

function newKey(dir: string, file: string): string {
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file], dir);
  return join(dir, file);
}

function signedCert(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
): { cert: string; key: string } {
  const key = newKey(dir, `${name}.key`);
  openssl(["req", "-new", "-key", key, "-subj", subject, "-out", `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ],
    dir,
  );
  return { cert: join(dir, `${name}.crt`), key };
}

export function generateCertificates(dir: string): Certificates {
  const caKey = newKey(dir, "ca.key");
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      caKey,
      "-subj",
      "/CN=aviary-test-ca",
      "-days",
      "2",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      "ca.crt",
    ],
    dir,
  );
  const serving = signedCert(
    dir,
    "apiserver",
    "/CN=kube-apiserver",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
      "extendedKeyUsage=serverAuth\n" +
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\n",
  );
  const admin = signedCert(
    dir,
    "admin",
    "/O=system:masters/CN=admin",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  const serviceAccountKey = newKey(dir, "sa.key");
  openssl(["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  return {
    caCert: join(dir, "ca.crt"),
    caKey,
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    serviceAccountKey,
    serviceAccountPub: join(dir, "sa.pub"),
  };
}
