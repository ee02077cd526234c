import { createRequire } from "node:module";

/**
 * Runs Argo CD resource-customization Lua the way Argo CD does (util/lua/lua.go): a fresh
 * VM per call with only the base, table and package libraries and a "safe" os library
 * holding just os.time and os.date; `obj` is the resource as a global; the script's
 * return value comes back as JSON. No string or math library, so a script that relies
 * on them fails here as it would in Argo CD. The VM is fengari (Lua 5.3 in JS); Argo CD
 * runs gopher-lua (5.1), so scripts should stay within the common subset.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type LuaState = object;
type CFunction = (L: LuaState) => number;

/** The slice of fengari's API used here (the package ships no types). */
interface Fengari {
  to_luastring: (s: string) => Uint8Array;
  lua: {
    LUA_TNIL: number;
    LUA_TBOOLEAN: number;
    LUA_TNUMBER: number;
    LUA_TSTRING: number;
    LUA_TTABLE: number;
    LUA_OK: number;
    lua_type(L: LuaState, index: number): number;
    lua_toboolean(L: LuaState, index: number): boolean;
    lua_tonumber(L: LuaState, index: number): number;
    lua_tojsstring(L: LuaState, index: number): string;
    lua_pushnil(L: LuaState): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Uint8Array): void;
    lua_pushcfunction(L: LuaState, f: CFunction): void;
    lua_createtable(L: LuaState, arrayLength: number, recordLength: number): void;
    lua_setfield(L: LuaState, index: number, key: Uint8Array): void;
    lua_rawseti(L: LuaState, index: number, i: number): void;
    lua_setglobal(L: LuaState, name: Uint8Array): void;
    lua_next(L: LuaState, index: number): number;
    lua_pop(L: LuaState, n: number): void;
    lua_gettop(L: LuaState): number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, errfunc: number): number;
  };
  lauxlib: {
    luaL_newstate(): LuaState;
    luaL_requiref(L: LuaState, name: Uint8Array, open: CFunction, global: number): void;
    luaL_loadstring(L: LuaState, source: Uint8Array): number;
    luaL_checkstring(L: LuaState, index: number): Uint8Array;
  };
  lualib: { luaopen_base: CFunction; luaopen_table: CFunction; luaopen_package: CFunction };
}

const fengari = createRequire(import.meta.url)("fengari") as Fengari;
const { lua, lauxlib, lualib, to_luastring } = fengari;

/** The clock os.time/os.date read, so tests can make two calls land in the same second. */
export type Clock = () => Date;

export class LuaScriptError extends Error {}

/** Runs `script` with `obj` bound to `resource` and returns what the script returns. */
export function runArgoLua(script: string, resource: Json, clock: Clock = () => new Date()): Json {
  const L = lauxlib.luaL_newstate();
  for (const [name, open] of [
    ["_G", lualib.luaopen_base],
    ["table", lualib.luaopen_table],
    ["package", lualib.luaopen_package],
  ] as const) {
    lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
    lua.lua_pop(L, 1);
  }
  installSafeOs(L, clock);
  push(L, resource);
  lua.lua_setglobal(L, to_luastring("obj"));
  if (
    lauxlib.luaL_loadstring(L, to_luastring(script)) !== lua.LUA_OK ||
    lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK
  )
    throw new LuaScriptError(lua.lua_tojsstring(L, -1));
  return read(L, lua.lua_gettop(L));
}

/** Argo CD's oslib_safe: os.time() and os.date(format) with a leading "!" for UTC. */
function installSafeOs(L: LuaState, clock: Clock): void {
  lua.lua_createtable(L, 0, 2);
  lua.lua_pushcfunction(L, (state) => {
    lua.lua_pushinteger(state, Math.floor(clock().getTime() / 1000));
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring("time"));
  lua.lua_pushcfunction(L, (state) => {
    const format = lua.lua_gettop(state) >= 1 ? fengari.lua.lua_tojsstring(state, 1) : "%c";
    lua.lua_pushstring(state, to_luastring(strftime(clock(), format)));
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring("date"));
  lua.lua_setglobal(L, to_luastring("os"));
}

/** The strftime flags the Aviary scripts use; any other flag is an error, not a guess. */
function strftime(now: Date, format: string): string {
  const utc = format.startsWith("!");
  const pad = (n: number): string => String(n).padStart(2, "0");
  const parts = utc
    ? [
        now.getUTCFullYear(),
        now.getUTCMonth() + 1,
        now.getUTCDate(),
        now.getUTCHours(),
        now.getUTCMinutes(),
        now.getUTCSeconds(),
      ]
    : [
        now.getFullYear(),
        now.getMonth() + 1,
        now.getDate(),
        now.getHours(),
        now.getMinutes(),
        now.getSeconds(),
      ];
  const [year, month, day, hour, minute, second] = parts.map((n) => n ?? 0) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const flags: Record<string, string> = {
    Y: String(year),
    m: pad(month),
    d: pad(day),
    H: pad(hour),
    M: pad(minute),
    S: pad(second),
  };
  return (utc ? format.slice(1) : format).replace(/%(.)/g, (_, flag: string) => {
    const value = flags[flag];
    if (value === undefined) throw new LuaScriptError(`os.date flag %${flag} is not emulated`);
    return value;
  });
}

function push(L: LuaState, value: Json): void {
  if (value === null) lua.lua_pushnil(L);
  else if (typeof value === "boolean") lua.lua_pushboolean(L, value);
  else if (typeof value === "number") {
    if (Number.isInteger(value)) lua.lua_pushinteger(L, value);
    else lua.lua_pushnumber(L, value);
  } else if (typeof value === "string") lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item, i) => {
      push(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    const entries = Object.entries(value);
    lua.lua_createtable(L, 0, entries.length);
    for (const [key, item] of entries) {
      push(L, item);
      lua.lua_setfield(L, -2, to_luastring(key));
    }
  }
}

/** A table whose keys are exactly 1..n becomes an array; any other table an object. */
function read(L: LuaState, index: number): Json {
  const type = lua.lua_type(L, index);
  if (type === lua.LUA_TNIL) return null;
  if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, index);
  if (type === lua.LUA_TNUMBER) return lua.lua_tonumber(L, index);
  if (type === lua.LUA_TSTRING) return lua.lua_tojsstring(L, index);
  if (type !== lua.LUA_TTABLE)
    throw new LuaScriptError(`the script returned a value of Lua type ${String(type)}`);
  const entries: [string | number, Json][] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, index) !== 0) {
    const keyType = lua.lua_type(L, -2);
    const key = keyType === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -2) : lua.lua_tojsstring(L, -2);
    entries.push([key, read(L, lua.lua_gettop(L))]);
    lua.lua_pop(L, 1);
  }
  const isArray =
    entries.length > 0 &&
    entries.every(([key]) => typeof key === "number") &&
    entries.every((_, i) => entries.some(([key]) => key === i + 1));
  if (isArray)
    return [...entries].sort((a, b) => Number(a[0]) - Number(b[0])).map(([, item]) => item);
  return Object.fromEntries(entries.map(([key, item]) => [String(key), item]));
}
