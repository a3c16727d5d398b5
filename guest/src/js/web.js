// The web platform globals agents expect from browsers and Node and that
// QuickJS lacks: URL, URLSearchParams, atob, btoa, structuredClone, crypto
// and DOMException.
//
// Evaluated once at build time, after inspect.js and before prelude.js, with
// the natives (URL parsing by the Rust `url` crate, random bytes from the
// host) and the internal object (for internal.inspect). Every global is
// installed non-enumerable, writable and configurable, as browsers do.
//
// Deliberate differences from the standards and from Node:
// - URL parsing and setters follow the Rust `url` crate, a WHATWG URL
//   implementation; an invalid URL throws `TypeError: Invalid URL` with
//   Node's `code`, `input` and `base` properties.
// - new URLSearchParams(null) holds 'null' => '' as WebIDL and browsers have
//   it (Node: empty). Its iterators are generators (they print as
//   `Object [Generator] {}`), not `URLSearchParams Iterator` objects.
// - structuredClone follows browsers where Node 20 does not: DOMException
//   clones, URL and URLSearchParams throw, a non-ArrayBuffer in `transfer`
//   throws a DataCloneError. Its errors name functions as inspect does
//   (`[Function: f] could not be cloned.`) rather than by their source.
//   It returns a SharedArrayBuffer itself (no new object sharing its memory)
//   and clones proxies and generator objects through their visible
//   properties instead of throwing.
// - crypto.getRandomValues throws a TypeError for a non-view and a
//   TypeMismatchError DOMException for float arrays and DataViews, as the
//   Web Crypto standard says.
// - DOMException carries no legacy code constants (INDEX_SIZE_ERR...), and
//   crypto has no `subtle`.
(function installWeb(native, internal) {
  'use strict';

  const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf, hasOwn, keys: objectKeys } = Object;
  // Helpers inspect.js defines for both files.
  const { uncurry, getter, passes } = internal;
  const define = (target, name, value) =>
    defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
  const defineTag = (constructor, tag) =>
    defineProperty(constructor.prototype, Symbol.toStringTag, { value: tag, configurable: true });
  const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

  // WebIDL's conversion to a string: symbols throw a TypeError.
  const toDOMString = (value) => `${value}`;
  // And to a USVString: lone surrogates become U+FFFD.
  const toUSVString = (value) => `${value}`.toWellFormed();

  const missingArguments = (name, count) => new TypeError(`${name} requires ${count} argument${count > 1 ? 's' : ''}`);

  // DOMException.

  const exceptionCodes = {
    IndexSizeError: 1,
    HierarchyRequestError: 3,
    WrongDocumentError: 4,
    InvalidCharacterError: 5,
    NoModificationAllowedError: 7,
    NotFoundError: 8,
    NotSupportedError: 9,
    InvalidStateError: 11,
    SyntaxError: 12,
    InvalidModificationError: 13,
    NamespaceError: 14,
    InvalidAccessError: 15,
    TypeMismatchError: 17,
    SecurityError: 18,
    NetworkError: 19,
    AbortError: 20,
    URLMismatchError: 21,
    QuotaExceededError: 22,
    TimeoutError: 23,
    InvalidNodeTypeError: 24,
    DataCloneError: 25,
  };

  let isDOMException;

  class DOMException extends Error {
    #name;
    #message;

    static {
      isDOMException = (value) => #name in value;
    }

    constructor(message = '', name = 'Error') {
      super();
      this.#message = toDOMString(message);
      this.#name = toDOMString(name);
    }

    get name() {
      return this.#name;
    }

    get message() {
      return this.#message;
    }

    get code() {
      return hasOwn(exceptionCodes, this.#name) ? exceptionCodes[this.#name] : 0;
    }
  }
  defineTag(DOMException, 'DOMException');

  // URLSearchParams.

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
        ([name, value]) => `${internal.inspect(name, innerOptions)} => ${internal.inspect(value, innerOptions)}`,
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
    return native.urlParse(toUSVString(url), base === undefined ? undefined : toUSVString(base));
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
      const parts = native.urlParse(input, baseInput);
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
      const parts = native.urlSet(this.#parts.href, part, toUSVString(value));
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
      const parts = native.urlParse(input, undefined);
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
      this.#set('protocol', value);
    }

    get username() {
      return this.#parts.username;
    }

    set username(value) {
      this.#set('username', value);
    }

    get password() {
      return this.#parts.password;
    }

    set password(value) {
      this.#set('password', value);
    }

    get host() {
      return this.#parts.host;
    }

    set host(value) {
      this.#set('host', value);
    }

    get hostname() {
      return this.#parts.hostname;
    }

    set hostname(value) {
      this.#set('hostname', value);
    }

    get port() {
      return this.#parts.port;
    }

    set port(value) {
      this.#set('port', value);
    }

    get pathname() {
      return this.#parts.pathname;
    }

    set pathname(value) {
      this.#set('pathname', value);
    }

    get search() {
      return this.#parts.search;
    }

    set search(value) {
      this.#set('search', value);
      this.#queryChanged();
    }

    get searchParams() {
      this.#searchParams ??= createLinkedParams(this.#parts.search, (query) => this.#set('search', query));
      return this.#searchParams;
    }

    get hash() {
      return this.#parts.hash;
    }

    set hash(value) {
      this.#set('hash', value);
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
      return `${this.constructor.name} ${internal.inspect(shown, options)}`;
    }
  }
  defineTag(URL, 'URL');

  // atob and btoa: the forgiving base64 of the HTML standard, on strings
  // whose characters are bytes.

  const base64Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  // The two characters encoding each 12-bit value.
  const base64Pairs = Array.from({ length: 4096 }, (_, n) => base64Alphabet[n >> 6] + base64Alphabet[n & 63]);
  // The value of each base64 character, by character code.
  const base64Values = new Uint8Array(128);
  for (let i = 0; i < 64; i++) base64Values[base64Alphabet.charCodeAt(i)] = i;
  const fromCharCode = String.fromCharCode;

  function btoa(data) {
    if (arguments.length < 1) throw missingArguments('btoa', 1);
    const text = toDOMString(data);
    if (/[^\0-\xff]/.test(text)) throw new DOMException('Invalid character', 'InvalidCharacterError');
    const whole = text.length - (text.length % 3);
    let output = '';
    for (let i = 0; i < whole; i += 3) {
      const n = (text.charCodeAt(i) << 16) | (text.charCodeAt(i + 1) << 8) | text.charCodeAt(i + 2);
      output += base64Pairs[n >> 12] + base64Pairs[n & 4095];
    }
    if (text.length - whole === 1) {
      output += `${base64Pairs[text.charCodeAt(whole) << 4]}==`;
    } else if (text.length - whole === 2) {
      const n = (text.charCodeAt(whole) << 8) | text.charCodeAt(whole + 1);
      output += `${base64Pairs[n >> 4]}${base64Alphabet[(n & 15) << 2]}=`;
    }
    return output;
  }

  function atob(data) {
    if (arguments.length < 1) throw missingArguments('atob', 1);
    let text = toDOMString(data).replace(/[\t\n\f\r ]+/g, '');
    if (text.length % 4 === 0) {
      if (text.endsWith('==')) text = text.slice(0, -2);
      else if (text.endsWith('=')) text = text.slice(0, -1);
    }
    if (/[^A-Za-z0-9+/]/.test(text)) throw new DOMException('Invalid character', 'InvalidCharacterError');
    if (text.length % 4 === 1) {
      throw new DOMException('The string to be decoded is not correctly encoded.', 'InvalidCharacterError');
    }
    const sextet = (i) => base64Values[text.charCodeAt(i)];
    const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
    const whole = text.length - (text.length % 4);
    let length = 0;
    for (let i = 0; i < whole; i += 4) {
      const n = (sextet(i) << 18) | (sextet(i + 1) << 12) | (sextet(i + 2) << 6) | sextet(i + 3);
      bytes[length++] = n >> 16;
      bytes[length++] = (n >> 8) & 0xff;
      bytes[length++] = n & 0xff;
    }
    if (text.length - whole === 2) {
      bytes[length++] = ((sextet(whole) << 6) | sextet(whole + 1)) >> 4;
    } else if (text.length - whole === 3) {
      const n = (sextet(whole) << 12) | (sextet(whole + 1) << 6) | sextet(whole + 2);
      bytes[length++] = n >> 10;
      bytes[length++] = (n >> 2) & 0xff;
    }
    let output = '';
    for (let i = 0; i < length; i += 8192) output += Reflect.apply(fromCharCode, null, bytes.subarray(i, i + 8192));
    return output;
  }

  // structuredClone.

  const TypedArrayPrototype = getPrototypeOf(Uint8Array.prototype);
  const typedArrayName = getter(TypedArrayPrototype, Symbol.toStringTag);
  const typedArrayBuffer = getter(TypedArrayPrototype, 'buffer');
  const typedArrayByteOffset = getter(TypedArrayPrototype, 'byteOffset');
  const typedArrayByteLength = getter(TypedArrayPrototype, 'byteLength');
  const typedArrayLength = getter(TypedArrayPrototype, 'length');
  const typedArrayConstructors = new Map(
    [
      'Int8Array',
      'Uint8Array',
      'Uint8ClampedArray',
      'Int16Array',
      'Uint16Array',
      'Int32Array',
      'Uint32Array',
      'Float16Array',
      'Float32Array',
      'Float64Array',
      'BigInt64Array',
      'BigUint64Array',
    ]
      .filter((name) => typeof globalThis[name] === 'function')
      .map((name) => [name, globalThis[name]]),
  );
  const objectToString = uncurry(Object.prototype.toString);
  const mapEntries = uncurry(Map.prototype.entries);
  const setValues = uncurry(Set.prototype.values);
  const dateGetTime = uncurry(Date.prototype.getTime);
  const regExpSource = getter(RegExp.prototype, 'source');
  const regExpFlags = getter(RegExp.prototype, 'flags');
  const arrayBufferSlice = uncurry(ArrayBuffer.prototype.slice);
  const arrayBufferTransfer = uncurry(ArrayBuffer.prototype.transfer);
  const arrayBufferDetached = getter(ArrayBuffer.prototype, 'detached');

  // Brand checks (see `passes` in inspect.js).
  const isArrayBuffer = passes(getter(ArrayBuffer.prototype, 'byteLength'));
  const isSharedArrayBuffer =
    typeof SharedArrayBuffer === 'function' ? passes(getter(SharedArrayBuffer.prototype, 'byteLength')) : () => false;
  const isDataView = passes(getter(DataView.prototype, 'buffer'));
  const isMap = passes(getter(Map.prototype, 'size'));
  const isSet = passes(getter(Set.prototype, 'size'));
  const isDate = passes(dateGetTime);
  const isRegExp = (value) => value !== RegExp.prototype && passes(regExpSource)(value);
  const isUncloneable = [
    passes(uncurry(WeakMap.prototype.has)),
    passes(uncurry(WeakSet.prototype.has)),
    passes(uncurry(WeakRef.prototype.deref)),
    passes((value) => uncurry(FinalizationRegistry.prototype.unregister)(value, {})),
    passes(uncurry(Symbol.prototype.valueOf)),
    (value) => value instanceof Promise || objectToString(value) === '[object Promise]',
    (value) => objectToString(value) === '[object Arguments]',
  ];
  const unboxers = [Number, String, Boolean, BigInt].map((type) => uncurry(type.prototype.valueOf));
  const errorConstructors = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

  const uncloneable = (value) => {
    let description;
    if (typeof value === 'function') description = internal.inspect(value);
    else if (typeof value === 'symbol') description = String(value);
    else description = `#<${objectToString(value).slice(8, -1)}>`;
    return new DOMException(`${description} could not be cloned.`, 'DataCloneError');
  };

  // CreateDataProperty: a plain assignment would run setters such as __proto__.
  const createDataProperty = (target, key, value) =>
    defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });

  function cloneArrayBuffer(buffer) {
    if (arrayBufferDetached(buffer)) {
      throw new DOMException('A detached ArrayBuffer could not be cloned.', 'DataCloneError');
    }
    if (!buffer.resizable) return arrayBufferSlice(buffer, 0);
    const copy = new ArrayBuffer(buffer.byteLength, { maxByteLength: buffer.maxByteLength });
    new Uint8Array(copy).set(new Uint8Array(buffer));
    return copy;
  }

  // Errors keep their name when it is a standard one (others become Error),
  // their message, stack and cause.
  function cloneError(error, memory) {
    const name = error.name;
    const copy = new (hasOwn(errorConstructors, name) ? errorConstructors[name] : Error)();
    memory.set(error, copy);
    const message = getOwnPropertyDescriptor(error, 'message');
    if (message !== undefined && 'value' in message) define(copy, 'message', String(message.value));
    const stack = error.stack;
    if (typeof stack === 'string') define(copy, 'stack', stack);
    if (hasOwn(error, 'cause')) define(copy, 'cause', clone(error.cause, memory));
    return copy;
  }

  // The clone of a built-in object, or undefined for an ordinary object.
  function cloneBuiltin(value, memory) {
    const typedArray = typedArrayName(value);
    if (typedArray !== undefined) {
      const byteOffset = typedArrayByteOffset(value);
      const length = typedArrayLength(value);
      const buffer = clone(typedArrayBuffer(value), memory);
      return new (typedArrayConstructors.get(typedArray))(buffer, byteOffset, length);
    }
    if (isArrayBuffer(value)) return cloneArrayBuffer(value);
    if (isSharedArrayBuffer(value)) return value;
    if (isDataView(value)) {
      const { byteOffset, byteLength } = value;
      return new DataView(clone(value.buffer, memory), byteOffset, byteLength);
    }
    if (isDate(value)) return new Date(dateGetTime(value));
    if (isRegExp(value)) return new RegExp(regExpSource(value), regExpFlags(value));
    if (isDOMException(value)) return new DOMException(value.message, value.name);
    if (isURL(value) || isSearchParams(value)) throw uncloneable(value);
    if (Error.isError(value)) return cloneError(value, memory);
    if (isMap(value)) {
      const copy = new Map();
      memory.set(value, copy);
      for (const [key, entry] of mapEntries(value)) copy.set(clone(key, memory), clone(entry, memory));
      return copy;
    }
    if (isSet(value)) {
      const copy = new Set();
      memory.set(value, copy);
      for (const entry of setValues(value)) copy.add(clone(entry, memory));
      return copy;
    }
    if (isUncloneable.some((check) => check(value))) throw uncloneable(value);
    for (const unbox of unboxers) {
      if (passes(unbox)(value)) return Object(unbox(value));
    }
    return undefined;
  }

  // A deep copy of value that shares what value shares. `memory` maps each
  // object already cloned to its clone.
  function clone(value, memory) {
    if (typeof value === 'symbol' || typeof value === 'function') throw uncloneable(value);
    if (typeof value !== 'object' || value === null) return value;
    let copy = memory.get(value);
    if (copy !== undefined) return copy;
    if (Array.isArray(value)) {
      copy = new Array(value.length);
    } else if (objectToString(value) !== '[object Object]') {
      // Ordinary objects, the common case, need no brand check.
      copy = cloneBuiltin(value, memory);
      if (copy !== undefined) {
        memory.set(value, copy);
        return copy;
      }
    }
    copy ??= {};
    memory.set(value, copy);
    // Arrays and ordinary objects: their own enumerable string-keyed properties.
    for (const key of objectKeys(value)) {
      if (!hasOwn(value, key)) continue;
      const property = clone(value[key], memory);
      // Assigning __proto__ would set the prototype instead.
      if (key === '__proto__') createDataProperty(copy, key, property);
      else copy[key] = property;
    }
    return copy;
  }

  function structuredClone(value, options = undefined) {
    if (arguments.length < 1) throw missingArguments('structuredClone', 1);
    const transfer = options?.transfer === undefined ? [] : [...options.transfer];
    for (const [index, buffer] of transfer.entries()) {
      if (!isArrayBuffer(buffer)) throw new DOMException('Only ArrayBuffers can be transferred.', 'DataCloneError');
      if (arrayBufferDetached(buffer)) {
        throw new DOMException('A detached ArrayBuffer could not be transferred.', 'DataCloneError');
      }
      if (transfer.indexOf(buffer) !== index) {
        throw new DOMException('An ArrayBuffer is listed twice in the transfer list.', 'DataCloneError');
      }
    }
    const copy = clone(value, new Map());
    // The clone received copies of the transferred buffers: detach the originals.
    for (const buffer of transfer) arrayBufferTransfer(buffer);
    return copy;
  }

  // crypto.

  const integerArrays = new Set([...typedArrayConstructors.keys()].filter((name) => !name.startsWith('Float')));
  const maxRandomBytes = 65536;

  class Crypto {
    getRandomValues(array) {
      if (arguments.length < 1) throw missingArguments('crypto.getRandomValues', 1);
      const name = typedArrayName(array);
      if (name === undefined && !isDataView(array)) {
        throw new TypeError('crypto.getRandomValues: the argument is not a typed array');
      }
      if (!integerArrays.has(name)) {
        throw new DOMException('The data argument must be an integer-type TypedArray', 'TypeMismatchError');
      }
      const byteLength = typedArrayByteLength(array);
      if (byteLength > maxRandomBytes) {
        throw new DOMException(
          `The ArrayBufferView's byte length (${byteLength}) exceeds the number of bytes of entropy available via this API (${maxRandomBytes})`,
          'QuotaExceededError',
        );
      }
      new Uint8Array(typedArrayBuffer(array), typedArrayByteOffset(array), byteLength).set(
        new Uint8Array(native.randomBytes(byteLength)),
      );
      return array;
    }

    randomUUID() {
      const bytes = new Uint8Array(native.randomBytes(16));
      bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
      bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
      const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
  }
  defineTag(Crypto, 'Crypto');

  const g = globalThis;
  define(g, 'DOMException', DOMException);
  define(g, 'URL', URL);
  define(g, 'URLSearchParams', URLSearchParams);
  define(g, 'atob', atob);
  define(g, 'btoa', btoa);
  define(g, 'structuredClone', structuredClone);
  define(g, 'crypto', new Crypto());
});
