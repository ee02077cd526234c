import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  escapePromQLString,
  quotePromQLString,
  renderQuery,
  unknownVariables,
} from "./template.ts";
import type { TemplateContext } from "./template.ts";

const context: TemplateContext = {
  namespace: "shop",
  rollout: "api",
  canaryService: "api-canary",
  stableService: "api-stable",
  canaryHash: "7c9f6d",
  stableHash: "5b8a21",
  window: "1m",
  variables: { queue: "orders" },
};

/** A PromQL token: strings are decoded to the value they denote, everything else is kept verbatim. */
interface Token {
  kind: "string" | "word" | "number" | "punct";
  text: string;
}

/** A tiny PromQL tokenizer (enough for the queries below): independent of the renderer's own scanner. */
function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === "#") {
      while (i < query.length && query.charAt(i) !== "\n") i += 1;
    } else if (c === '"' || c === "'") {
      let value = "";
      i += 1;
      while (query.charAt(i) !== c) {
        if (i >= query.length) throw new Error(`unterminated string in ${query}`);
        if (query.charAt(i) === "\\") {
          const e = query.charAt(i + 1);
          const simple: Record<string, string> = {
            n: "\n",
            r: "\r",
            t: "\t",
            "\\": "\\",
            '"': '"',
            "'": "'",
          };
          if (e === "u") {
            value += String.fromCharCode(parseInt(query.slice(i + 2, i + 6), 16));
            i += 6;
          } else if (simple[e] !== undefined) {
            value += simple[e];
            i += 2;
          } else {
            throw new Error(`unknown escape \\${e}`);
          }
        } else {
          value += query.charAt(i);
          i += 1;
        }
      }
      i += 1;
      tokens.push({ kind: "string", text: value });
    } else if (/[A-Za-z_:]/.test(c)) {
      const word = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(query.slice(i))?.[0] ?? c;
      tokens.push({ kind: "word", text: word });
      i += word.length;
    } else if (/[0-9]/.test(c)) {
      const number = /^[0-9.]+[a-z]*/.exec(query.slice(i))?.[0] ?? c;
      tokens.push({ kind: "number", text: number });
      i += number.length;
    } else {
      const punct = /^(=~|!~|!=|==|>=|<=)/.exec(query.slice(i))?.[0] ?? c;
      tokens.push({ kind: "punct", text: punct });
      i += punct.length;
    }
  }
  return tokens;
}

const HOSTILE = [
  '"} or vector(1) #',
  '\\"} or vector(1) #',
  "\\",
  '\\"',
  "\\\\",
  '"',
  "'",
  "`",
  "}",
  "{{namespace}}",
  "a\nb",
  '"}\nor vector(1)',
  "\r\t\u0000\u001b\u007f",
  "ünïcødé 🦜 名前",
  "\u2028\u2029",
  "\ud800 lone surrogate",
  "\ufffd replacement character",
  "x".repeat(100_000),
  '",job=~".+',
  "') or vector(1) #",
];

const CUSTOM_QUERY =
  'sum(rate(http_requests_total{namespace="{{namespace}}", service=\'{{canaryService}}\', job="{{variables.queue}}", code=~"5.."}[{{window}}])) # {{rollout}}';

describe("renderQuery", () => {
  test("fills every built-in variable and custom variables", () => {
    const result = renderQuery(
      'x{a="{{namespace}}",b="{{rollout}}",c="{{canaryService}}",d="{{stableService}}",e="{{canaryHash}}",f="{{stableHash}}",g="{{ variables.queue }}"}[{{window}}]',
      context,
    );
    assert.deepEqual(result, {
      ok: true,
      query:
        'x{a="shop",b="api",c="api-canary",d="api-stable",e="7c9f6d",f="5b8a21",g="orders"}[1m]',
    });
  });

  test("a hostile value never changes the structure of the query", () => {
    const benign = renderQuery(CUSTOM_QUERY, context);
    assert.ok(benign.ok);
    const expected = tokenize(benign.query);
    for (const hostile of HOSTILE) {
      const result = renderQuery(CUSTOM_QUERY, {
        ...context,
        namespace: hostile,
        canaryService: hostile,
        variables: { queue: hostile },
      });
      assert.ok(result.ok, `rendering failed for ${JSON.stringify(hostile.slice(0, 40))}`);
      const tokens = tokenize(result.query);
      const wellFormed = hostile.toWellFormed();
      const intended = expected.map((t) =>
        t.kind === "string" && ["shop", "api-canary", "orders"].includes(t.text)
          ? { ...t, text: wellFormed }
          : t,
      );
      assert.deepEqual(
        tokens,
        intended,
        `structure changed for ${JSON.stringify(hostile.slice(0, 40))}`,
      );
    }
  });

  test("an escaped value contains no raw quote, newline or lone backslash", () => {
    for (const hostile of HOSTILE) {
      const escaped = escapePromQLString(hostile);
      const withoutEscapedBackslashes = escaped.replaceAll("\\\\", "");
      assert.doesNotMatch(withoutEscapedBackslashes, /(^|[^\\])"/);
      assert.ok(
        Array.from({ length: escaped.length }, (_, k) => escaped.charCodeAt(k)).every(
          (code) => code >= 0x20 && code !== 0x7f,
        ),
        `raw control character in ${escaped.slice(0, 40)}`,
      );
    }
    assert.equal(quotePromQLString('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
  });

  test("an unknown variable is an error naming it and the allowed ones", () => {
    const result = renderQuery('up{job="{{service}}"}', context);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.match(result.error, /\{\{service\}\}/);
    assert.match(result.error, /\{\{canaryService\}\}/);
    assert.match(result.error, /\{\{variables\.queue\}\}/);
  });

  test("a custom variable the template does not define is unknown", () => {
    const result = renderQuery('up{job="{{variables.missing}}"}', context);
    assert.ok(!result.ok);
    assert.match(result.error, /\{\{variables\.missing\}\}/);
  });

  test("a hostile value outside quotes is refused with a hint to quote it", () => {
    for (const hostile of ['"} or vector(1) #', "1) or vector(1", "a b", "x\ny"]) {
      const result = renderQuery("topk({{variables.queue}}, up)", {
        ...context,
        variables: { queue: hostile },
      });
      assert.ok(!result.ok, `accepted ${JSON.stringify(hostile)}`);
      assert.match(result.error, /outside a quoted string/);
      assert.match(result.error, /label="\{\{variables\.queue\}\}"/);
    }
  });

  test("values outside quotes may be identifiers or numbers", () => {
    const result = renderQuery("topk({{variables.k}}, {{variables.metric}})", {
      ...context,
      variables: { k: "5", metric: "istio_requests_total" },
    });
    assert.deepEqual(result, { ok: true, query: "topk(5, istio_requests_total)" });
  });

  test("window must be a duration when it is a range", () => {
    const bad = renderQuery("rate(x[{{window}}])", { ...context, window: "1m]) or vector(1" });
    assert.ok(!bad.ok);
    assert.match(bad.error, /duration such as "1m"/);
    assert.deepEqual(renderQuery("rate(x[{{window}}])", { ...context, window: "1h30m" }), {
      ok: true,
      query: "rate(x[1h30m])",
    });
  });

  test("a value in a comment cannot end the comment", () => {
    const result = renderQuery("up # {{variables.queue}}", {
      ...context,
      variables: { queue: "x\nor vector(1)" },
    });
    assert.ok(!result.ok);
  });

  test("a raw string refuses a value with a backtick and keeps others verbatim", () => {
    assert.ok(
      !renderQuery("up{job=`{{variables.queue}}`}", { ...context, variables: { queue: "a`b" } }).ok,
    );
    assert.deepEqual(
      renderQuery("up{job=`{{variables.queue}}`}", { ...context, variables: { queue: 'a"\\b' } }),
      {
        ok: true,
        query: 'up{job=`a"\\b`}',
      },
    );
  });

  test("escapes already in the template are kept and do not confuse string tracking", () => {
    const result = renderQuery('up{a="x\\"{{namespace}}", b="{{rollout}}"}', {
      ...context,
      namespace: '"',
    });
    assert.ok(result.ok);
    const strings = tokenize(result.query).filter((t) => t.kind === "string");
    assert.deepEqual(
      strings.map((t) => t.text),
      ['x""', "api"],
    );
  });

  test("a value is never expanded again", () => {
    const result = renderQuery('up{a="{{namespace}}"}', { ...context, namespace: "{{rollout}}" });
    assert.deepEqual(result, { ok: true, query: 'up{a="{{rollout}}"}' });
  });
});

describe("unknownVariables", () => {
  test("lists names the template uses but nobody defines", () => {
    assert.deepEqual(
      unknownVariables("{{namespace}} {{foo}} {{variables.a}} {{variables.b}} {{foo}}", ["a"]),
      ["foo", "variables.b"],
    );
  });
});
