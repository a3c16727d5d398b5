// URL and URLSearchParams. Parsing and the setters are native (see url.rs):
// the Rust `url` crate, a WHATWG URL implementation.
//
// Evaluated once at build time, after webidl.js.
//
// Deliberate differences from the standards and from Node:
// - URL parsing and setters follow the Rust `url` crate; an invalid URL
//   throws `TypeError: Invalid URL` with Node's `code`, `input` and `base`
//   properties.
// - new URLSearchParams(null) holds 'null' => '' as WebIDL and browsers have
//   it (Node: empty). Its iterators are generators (they print as
//   `Object [Generator] {}`), not `URLSearchParams Iterator` objects.
(function installURL(native, internal) {
  'use strict';

  const {
    urlParse,
    urlSet,
    urlPart: {
      protocol: PROTOCOL,
      username: USERNAME,
      password: PASSWORD,
      host: HOST,
      hostname: HOSTNAME,
      port: PORT,
      pathname: PATHNAME,
      search: SEARCH,
      hash: HASH,
    },
  } = native;
  const { getOwnPropertyDescriptor } = Object;
  const { inspect, define, defineTag, toUSVString, missingArguments } = internal;
  const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

  const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  // Decode a run of percent escapes as UTF-8, replacing invalid sequences
  // with U+FFFD (decodeURIComponent would throw on them).
  const decodeEscapes = (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      const bytes = new Uint8Array(run.length / 3);
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(3 * i + 1, 3 * i + 3), 16);
      return utf8Decoder.decode(bytes);
    }
  };
  // Runs of escapes can be decoded on their own: no UTF-8 sequence continues
  // across a literal character.
  const percentDecode = (text) => (text.includes('%') ? text.replace(/(?:%[0-9A-Fa-f]{2})+/g, decodeEscapes) : text);

  // The application/x-www-form-urlencoded parser: appends the pairs of
  // query to list.
  function parseQuery(query, list) {
    for (const sequence of query.split('&')) {
      if (sequence === '') continue;
      const equals = sequence.indexOf('=');
      const name = equals === -1 ? sequence : sequence.slice(0, equals);
      const value = equals === -1 ? '' : sequence.slice(equals + 1);
      list.push([percentDecode(name.replaceAll('+', ' ')), percentDecode(value.replaceAll('+', ' '))]);
    }
  }

  // The application/x-www-form-urlencoded serializer: everything but
  // alphanumerics and *-._ is percent-encoded as UTF-8, spaces become '+'.
  const serializeComponent = (text) =>
    /^[A-Za-z0-9*._-]*$/.test(text)
      ? text
      : encodeURIComponent(text).replace(/[!'()~]|%20/g, (match) =>
          match === '%20' ? '+' : `%${match.charCodeAt(0).toString(16).toUpperCase()}`,
        );

  const serializeList = (list) =>
    list.map(([name, value]) => `${serializeComponent(name)}=${serializeComponent(value)}`).join('&');

  function* iterateList(list, pick) {
    for (let i = 0; i < list.length; i++) yield pick(list[i]);
  }

  // Set by URLSearchParams' static block for URL: a URLSearchParams object
  // that reports its changes to its URL, and the way to refill it.
  let createLinkedParams;
  let replaceParams;
  let isSearchParams;

  class URLSearchParams {
    // [name, value] pairs; the array is only ever changed in place.
    #list = [];
    // Called with the serialization after each change when tied to a URL.
    #onChange = null;

    static {
      createLinkedParams = (query, onChange) => {
        const params = new URLSearchParams(query);
        params.#onChange = onChange;
        return params;
      };
      replaceParams = (params, query) => {
        params.#list.length = 0;
        parseQuery(query, params.#list);
      };
      isSearchParams = (value) => #list in value;
    }

    constructor(init = '') {
      if ((typeof init === 'object' && init !== null) || typeof init === 'function') {
        const iteratorMethod = init[Symbol.iterator];
        if (iteratorMethod !== undefined && iteratorMethod !== null) {
          if (typeof iteratorMethod !== 'function') throw new TypeError('URLSearchParams: init is not iterable');
          for (const pair of init) {
            if ((typeof pair !== 'object' || pair === null) && typeof pair !== 'function') {
              throw new TypeError('URLSearchParams: each pair must be an iterable [name, value]');
            }
            const items = [...pair];
            if (items.length !== 2) {
              throw new TypeError('URLSearchParams: each pair must have exactly a name and a value');
            }
            this.#list.push([toUSVString(items[0]), toUSVString(items[1])]);
          }
        } else {
          // A record: keys equal once converted keep the first position and
          // the last value.
          const positions = new Map();
          for (const key of Reflect.ownKeys(init)) {
            if (!getOwnPropertyDescriptor(init, key)?.enumerable) continue;
            const pair = [toUSVString(key), toUSVString(init[key])];
            const position = positions.get(pair[0]);
            if (position === undefined) {
              positions.set(pair[0], this.#list.length);
              this.#list.push(pair);
            } else {
              this.#list[position] = pair;
            }
          }
        }
      } else {
        const query = toUSVString(init);
        parseQuery(query.startsWith('?') ? query.slice(1) : query, this.#list);
      }
    }

    #changed() {
      this.#onChange?.(serializeList(this.#list));
    }

    get size() {
      return this.#list.length;
    }

    append(name, value) {
      if (arguments.length < 2) throw missingArguments('URLSearchParams.append', 2);
      this.#list.push([toUSVString(name), toUSVString(value)]);
      this.#changed();
    }

    delete(name, value = undefined) {
      if (arguments.length < 1) throw missingArguments('URLSearchParams.delete', 1);
      name = toUSVString(name);
      if (value !== undefined) value = toUSVString(value);
      const list = this.#list;
      let kept = 0;
      for (const pair of list) {
        if (pair[0] !== name || (value !== undefined && pair[1] !== value)) list[kept++] = pair;
      }
      list.length = kept;
      this.#changed();
    }

    get(name) {
      if (arguments.length < 1) throw missingArguments('URLSearchParams.get', 1);
      name = toUSVString(name);
      const pair = this.#list.find((entry) => entry[0] === name);
      return pair === undefined ? null : pair[1];
    }

    getAll(name) {
      if (arguments.length < 1) throw missingArguments('URLSearchParams.getAll', 1);
      name = toUSVString(name);
      return this.#list.filter((entry) => entry[0] === name).map((entry) => entry[1]);
    }

    has(name, value = undefined) {
      if (arguments.length < 1) throw missingArguments('URLSearchParams.has', 1);
      name = toUSVString(name);
      if (value !== undefined) value = toUSVString(value);
      return this.#list.some((entry) => entry[0] === name && (value === undefined || entry[1] === value));
    }

    set(name, value) {
      if (arguments.length < 2) throw missingArguments('URLSearchParams.set', 2);
      name = toUSVString(name);
      value = toUSVString(value);
      const list = this.#list;
      const first = list.findIndex((entry) => entry[0] === name);
      if (first === -1) {
        list.push([name, value]);
      } else {
        list[first] = [name, value];
        let kept = first + 1;
        for (let i = first + 1; i < list.length; i++) {
          if (list[i][0] !== name) list[kept++] = list[i];
        }
        list.length = kept;
      }
      this.#changed();
    }

    sort() {
      // Array.prototype.sort is stable, and < compares UTF-16 code units.
      this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this.#changed();
    }

    forEach(callback, thisArg = undefined) {
      if (typeof callback !== 'function') {
        throw new TypeError('URLSearchParams.forEach: the callback is not a function');
      }
      const list = this.#list;
      for (let i = 0; i < list.length; i++) callback.call(thisArg, list[i][1], list[i][0], this);
    }

    keys() {
      return iterateList(this.#list, (pair) => pair[0]);
    }

    values() {
      return iterateList(this.#list, (pair) => pair[1]);
    }

    entries() {
      return iterateList(this.#list, (pair) => [pair[0], pair[1]]);
    }

    toString() {
      return serializeList(this.#list);
    }

    // How Node's util.inspect shows it: URLSearchParams { 'a' => '1' }.
    [inspectSymbol](depth, options) {
      if (typeof depth === 'number' && depth < 0) return '[Object]';
      const innerOptions = { ...options, depth: depth - 1 };
      const output = this.#list.map(
        ([name, value]) => `${inspect(name, innerOptions)} => ${inspect(value, innerOptions)}`,
      );
      const name = this.constructor.name;
      const length = output.reduce((total, entry) => total + entry.length + 2, -2);
      if (length > (options?.breakLength ?? 80)) return `${name} {\n  ${output.join(',\n  ')} }`;
      if (output.length) return `${name} { ${output.join(', ')} }`;
      return `${name} {}`;
    }
  }
  define(URLSearchParams.prototype, Symbol.iterator, URLSearchParams.prototype.entries);
  defineTag(URLSearchParams, 'URLSearchParams');

  // URL.

  // Parse with the Rust `url` crate: the URL's parts, or null if invalid.
  function parseURL(url, base) {
    return urlParse(toUSVString(url), base === undefined ? undefined : toUSVString(base));
  }

  function invalidURL(input, base) {
    const error = new TypeError('Invalid URL');
    error.code = 'ERR_INVALID_URL';
    error.input = input;
    if (base !== undefined) error.base = base;
    return error;
  }

  let isURL;

  class URL {
    // {href, origin, protocol, username, password, host, hostname, port,
    // pathname, search, hash}, as the `url` crate computed them.
    #parts;
    #searchParams = null;

    static {
      isURL = (value) => #parts in value;
    }

    constructor(url, base = undefined) {
      if (arguments.length < 1) throw missingArguments('URL', 1);
      const input = toUSVString(url);
      const baseInput = base === undefined ? undefined : toUSVString(base);
      const parts = urlParse(input, baseInput);
      if (parts === null) throw invalidURL(input, baseInput);
      this.#parts = parts;
    }

    static canParse(url, base = undefined) {
      if (arguments.length < 1) throw missingArguments('URL.canParse', 1);
      return parseURL(url, base) !== null;
    }

    static parse(url, base = undefined) {
      if (arguments.length < 1) throw missingArguments('URL.parse', 1);
      const parts = parseURL(url, base);
      return parts === null ? null : new URL(parts.href);
    }

    // Apply a setter natively; the URL standard leaves the URL unchanged
    // when the value is rejected.
    #set(part, value) {
      const parts = urlSet(this.#parts.href, part, toUSVString(value));
      if (parts !== null) this.#parts = parts;
    }

    #queryChanged() {
      if (this.#searchParams !== null) replaceParams(this.#searchParams, this.#parts.search.slice(1));
    }

    get href() {
      return this.#parts.href;
    }

    set href(value) {
      const input = toUSVString(value);
      const parts = urlParse(input, undefined);
      if (parts === null) throw invalidURL(input);
      this.#parts = parts;
      this.#queryChanged();
    }

    get origin() {
      return this.#parts.origin;
    }

    get protocol() {
      return this.#parts.protocol;
    }

    set protocol(value) {
      this.#set(PROTOCOL, value);
    }

    get username() {
      return this.#parts.username;
    }

    set username(value) {
      this.#set(USERNAME, value);
    }

    get password() {
      return this.#parts.password;
    }

    set password(value) {
      this.#set(PASSWORD, value);
    }

    get host() {
      return this.#parts.host;
    }

    set host(value) {
      this.#set(HOST, value);
    }

    get hostname() {
      return this.#parts.hostname;
    }

    set hostname(value) {
      this.#set(HOSTNAME, value);
    }

    get port() {
      return this.#parts.port;
    }

    set port(value) {
      this.#set(PORT, value);
    }

    get pathname() {
      return this.#parts.pathname;
    }

    set pathname(value) {
      this.#set(PATHNAME, value);
    }

    get search() {
      return this.#parts.search;
    }

    set search(value) {
      this.#set(SEARCH, value);
      this.#queryChanged();
    }

    get searchParams() {
      this.#searchParams ??= createLinkedParams(this.#parts.search, (query) => this.#set(SEARCH, query));
      return this.#searchParams;
    }

    get hash() {
      return this.#parts.hash;
    }

    set hash(value) {
      this.#set(HASH, value);
    }

    toString() {
      return this.#parts.href;
    }

    toJSON() {
      return this.#parts.href;
    }

    // How Node's util.inspect shows it: URL { href: ..., hash: ... }.
    [inspectSymbol](depth, options) {
      if (typeof depth === 'number' && depth < 0) return this;
      const { href, origin, protocol, username, password, host, hostname, port, pathname, search, hash } = this.#parts;
      const searchParams = this.searchParams;
      const shown = {
        href,
        origin,
        protocol,
        username,
        password,
        host,
        hostname,
        port,
        pathname,
        search,
        searchParams,
        hash,
      };
      return `${this.constructor.name} ${inspect(shown, options)}`;
    }
  }
  defineTag(URL, 'URL');

  internal.isURL = isURL;
  internal.isSearchParams = isSearchParams;
  define(globalThis, 'URL', URL);
  define(globalThis, 'URLSearchParams', URLSearchParams);
});
