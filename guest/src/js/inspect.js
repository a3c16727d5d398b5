// Formats values the way Node's util.inspect and util.format do, so that what
// console.log prints in the sandbox looks like what agents know from Node.
//
// Evaluated once at build time, before the web APIs (web/) and prelude.js.
// Like every file here it is a function of (native, internal). It installs
// internal.inspect(value, options) and internal.format(args), which console,
// the URL classes and error reports use. It follows Node's
// lib/internal/util/inspect.js with default options (depth 2, compact 3,
// breakLength 80, no colors), restricted to what plain ECMAScript can observe.
// Objects can customize their output with the same
// Symbol.for('nodejs.util.inspect.custom') method Node calls.
//
// Deliberate differences from Node:
// - Promises print as `Promise { <unknown> }`: QuickJS cannot read their state.
// - A frozen object's native getters (the nodes of documents, see
//   documents.rs) print their values, as the data they stand for, instead of
//   `[Getter]`.
// - Proxies cannot be detected: they are inspected through their traps.
// - Map and Set iterators are not previewed (`Object [Map Iterator] {}`), and
//   WeakMap/WeakSet contents are never shown, even with %o.
// - QuickJS's error.stack holds only the frames, so the first line of an
//   error is built from its current name and message when it is inspected.
// - Arrays and typed arrays longer than 10,000 elements do not list their
//   extra non-index properties (finding them means enumerating every index).
// - %o (showHidden) does not list the prototype properties of class instances.
// - A value whose inspection throws (a throwing getter for Symbol.toStringTag,
//   a proxy trap, a custom inspect method...) prints as
//   `<Inspection threw (message)>` instead of making console.log throw; so
//   does %j on a value JSON.stringify rejects.
// - Built-in objects whose prototype was swapped for an ordinary one, e.g.
//   Object.setPrototypeOf(new Map(), Foo.prototype), print as ordinary objects.
// - Display widths of non-ASCII characters (used to align grouped arrays) come
//   from a small table instead of ICU.
(function installInspect(native, internal) {
  'use strict';

  const { getOwnPropertyDescriptor, getOwnPropertyNames, getOwnPropertySymbols, getPrototypeOf, hasOwn, is } = Object;
  const objectKeys = Object.keys;
  const { apply, ownKeys } = Reflect;
  const { isArray } = Array;
  const isNativeError = Error.isError;
  // uncurry(f)(self, ...args) calls f with this = self, immune to later
  // changes of the prototypes.
  const uncurry = (fn) => apply(Function.prototype.bind, Function.prototype.call, [fn]);
  const getter = (proto, name) => uncurry(getOwnPropertyDescriptor(proto, name).get);

  const propertyIsEnumerable = uncurry(Object.prototype.propertyIsEnumerable);
  const { isFrozen } = Object;
  const stringEndsWith = uncurry(String.prototype.endsWith);
  const objectToString = uncurry(Object.prototype.toString);
  const functionToString = uncurry(Function.prototype.toString);
  const errorToString = uncurry(Error.prototype.toString);
  const symbolToString = uncurry(Symbol.prototype.toString);
  const regExpToString = uncurry(RegExp.prototype.toString);
  const dateGetTime = uncurry(Date.prototype.getTime);
  const dateToISOString = uncurry(Date.prototype.toISOString);
  const dateToString = uncurry(Date.prototype.toString);
  const mapSize = getter(Map.prototype, 'size');
  const mapEntries = uncurry(Map.prototype.entries);
  const setSize = getter(Set.prototype, 'size');
  const setValues = uncurry(Set.prototype.values);
  const TypedArrayPrototype = getPrototypeOf(Uint8Array.prototype);
  const typedArrayName = getter(TypedArrayPrototype, Symbol.toStringTag);
  const typedArrayLength = getter(TypedArrayPrototype, 'length');
  const AsyncFunctionPrototype = getPrototypeOf(async function () {});
  const GeneratorFunctionPrototype = getPrototypeOf(function* () {});
  const AsyncGeneratorFunctionPrototype = getPrototypeOf(async function* () {});
  const customInspectSymbol = Symbol.for('nodejs.util.inspect.custom');

  const inspectDefaults = {
    depth: 2,
    showHidden: false,
    compact: 3,
    breakLength: 80,
    maxArrayLength: 100,
    maxStringLength: 10000,
    customInspect: true,
  };

  const kObjectType = 0;
  const kArrayType = 1;
  const kArrayExtrasType = 2;
  const kMinLineLength = 16;
  // Beyond this many elements, arrays are not scanned for extra properties.
  const kMaxScannedLength = 10000;

  // Built-in constructors, for %s: objects whose toString comes from one of
  // them are inspected rather than converted with String().
  const builtInObjects = new Set(getOwnPropertyNames(globalThis).filter((name) => /^[A-Z][a-zA-Z0-9]+$/.test(name)));

  // Brand checks: each throws unless its argument has the internal slots of
  // that kind of built-in object.
  const passes = (check) => (value) => {
    try {
      check(value);
      return true;
    } catch {
      return false;
    }
  };
  const regExpSource = getter(RegExp.prototype, 'source');
  const brandChecks = new Map([
    ['Map', passes(mapSize)],
    ['Set', passes(setSize)],
    ['WeakMap', passes(uncurry(WeakMap.prototype.has))],
    ['WeakSet', passes(uncurry(WeakSet.prototype.has))],
    ['Date', passes(dateGetTime)],
    ['RegExp', (value) => value !== RegExp.prototype && passes(regExpSource)(value)],
    ['ArrayBuffer', passes(getter(ArrayBuffer.prototype, 'byteLength'))],
    ['DataView', passes(getter(DataView.prototype, 'buffer'))],
    ['Number', passes(uncurry(Number.prototype.valueOf))],
    ['String', passes(uncurry(String.prototype.valueOf))],
    ['Boolean', passes(uncurry(Boolean.prototype.valueOf))],
    ['BigInt', passes(uncurry(BigInt.prototype.valueOf))],
    ['Symbol', passes(uncurry(Symbol.prototype.valueOf))],
  ]);
  if (typeof SharedArrayBuffer === 'function') {
    brandChecks.set('SharedArrayBuffer', passes(getter(SharedArrayBuffer.prototype, 'byteLength')));
  }

  // Which built-in an object is ('' for ordinary objects). Object.prototype.
  // toString names the likely candidate, so ordinary objects cost no brand check.
  function builtinKind(value, constructor) {
    if (typeof value === 'function') return 'Function';
    if (isArray(value)) return 'Array';
    if (typedArrayName(value) !== undefined) return 'TypedArray';
    if (isNativeError(value) || value instanceof Error) return 'Error';
    const tag = objectToString(value).slice(8, -1);
    if (brandChecks.get(tag)?.(value)) return tag;
    if (tag === 'Arguments' || (tag === 'Promise' && value instanceof Promise)) return tag;
    if (constructor !== null && tag === 'Object') return '';
    for (const [kind, check] of brandChecks) {
      if (check(value)) return kind;
    }
    return '';
  }

  // What V8 would call the object's class when it has no usable constructor.
  function internalConstructorName(value, kind) {
    if (kind === 'TypedArray') return typedArrayName(value);
    if (kind === '' || kind === 'Arguments') return 'Object';
    return kind;
  }

  // Strings.

  const strEscapeSequencesRegExp =
    /[\x00-\x1f\x27\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  const strEscapeSequencesReplacer =
    /[\x00-\x1f\x27\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  const strEscapeSequencesRegExpSingle =
    /[\x00-\x1f\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  const strEscapeSequencesReplacerSingle =
    /[\x00-\x1f\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  const keyStrRegExp = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
  const numberRegExp = /^(0|[1-9][0-9]*)$/;
  const classRegExp = /^(\s+[^(]*?)\s*{/;
  const stripCommentsRegExp = /(\/\/.*?\n)|(\/\*(.|\n)*?\*\/)/g;

  // Escapes of the control characters, the single quote and the backslash.
  const meta = Array.from({ length: 160 }, (_, code) =>
    code < 32 || code >= 127 ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : '',
  );
  Object.assign(meta, { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' });

  const escapeFn = (str) => {
    const code = str.charCodeAt(0);
    return code < meta.length ? meta[code] : `\\u${code.toString(16)}`;
  };

  // Quote a string like Node: single quotes unless the string contains some,
  // then double quotes, then backticks.
  function strEscape(str) {
    let escapeTest = strEscapeSequencesRegExp;
    let escapeReplace = strEscapeSequencesReplacer;
    let quote = "'";
    if (str.includes("'")) {
      if (!str.includes('"')) {
        quote = '"';
      } else if (!str.includes('`') && !str.includes('${')) {
        quote = '`';
      }
      if (quote !== "'") {
        escapeTest = strEscapeSequencesRegExpSingle;
        escapeReplace = strEscapeSequencesReplacerSingle;
      }
    }
    const escaped = escapeTest.test(str) ? str.replace(escapeReplace, escapeFn) : str;
    return `${quote}${escaped}${quote}`;
  }

  const isFullWidthCodePoint = (code) =>
    code >= 0x1100 &&
    (code <= 0x115f ||
      code === 0x2329 ||
      code === 0x232a ||
      (code >= 0x2e80 && code <= 0x3247 && code !== 0x303f) ||
      (code >= 0x3250 && code <= 0x4dbf) ||
      (code >= 0x4e00 && code <= 0xa4c6) ||
      (code >= 0xa960 && code <= 0xa97c) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe10 && code <= 0xfe19) ||
      (code >= 0xfe30 && code <= 0xfe6b) ||
      (code >= 0xff01 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1b000 && code <= 0x1b001) ||
      (code >= 0x1f200 && code <= 0x1f251) ||
      (code >= 0x1f300 && code <= 0x1f64f) ||
      (code >= 0x20000 && code <= 0x3fffd));

  const isZeroWidthCodePoint = (code) =>
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x300 && code <= 0x36f) ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x20d0 && code <= 0x20ff) ||
    (code >= 0xfe00 && code <= 0xfe0f) ||
    (code >= 0xfe20 && code <= 0xfe2f) ||
    (code >= 0xe0100 && code <= 0xe01ef);

  // The number of terminal columns a string takes.
  function getStringWidth(str) {
    let width = 0;
    for (let i = 0; i < str.length; i++) {
      const code = str.charCodeAt(i);
      if (code >= 127) {
        for (const char of str.slice(i).normalize('NFC')) {
          const point = char.codePointAt(0);
          if (isFullWidthCodePoint(point)) width += 2;
          else if (!isZeroWidthCodePoint(point)) width++;
        }
        break;
      }
      if (code >= 32) width++;
    }
    return width;
  }

  // Primitives.

  const formatNumber = (number) => (is(number, -0) ? '-0' : `${number}`);
  const formatBigInt = (bigint) => `${bigint}n`;

  function formatPrimitive(value, ctx) {
    if (typeof value === 'string') {
      let trailer = '';
      if (value.length > ctx.maxStringLength) {
        const remaining = value.length - ctx.maxStringLength;
        value = value.slice(0, ctx.maxStringLength);
        trailer = `... ${remaining} more character${remaining > 1 ? 's' : ''}`;
      }
      if (value.length > kMinLineLength && value.length > ctx.breakLength - ctx.indentationLvl - 4) {
        return (
          value
            .split(/(?<=\n)/)
            .map(strEscape)
            .join(` +\n${' '.repeat(ctx.indentationLvl + 2)}`) + trailer
        );
      }
      return strEscape(value) + trailer;
    }
    if (typeof value === 'number') return formatNumber(value);
    if (typeof value === 'bigint') return formatBigInt(value);
    if (typeof value === 'symbol') return symbolToString(value);
    return `${value}`;
  }

  const describeThrown = (error) => {
    try {
      return String(error !== null && typeof error === 'object' && 'message' in error ? error.message : error);
    } catch {
      return 'an unprintable error';
    }
  };
  const inspectionThrew = (error) => `<Inspection threw (${describeThrown(error)})>`;

  // Objects.

  function isInstanceof(object, constructor) {
    try {
      return object instanceof constructor;
    } catch {
      return false;
    }
  }

  // The name of the nearest constructor in the prototype chain the object is
  // an instance of; null for objects without prototype.
  function getConstructorName(obj, ctx, recurseTimes) {
    let firstProto;
    const original = obj;
    while (obj) {
      const descriptor = getOwnPropertyDescriptor(obj, 'constructor');
      if (
        descriptor !== undefined &&
        typeof descriptor.value === 'function' &&
        descriptor.value.name !== '' &&
        isInstanceof(original, descriptor.value)
      ) {
        return String(descriptor.value.name);
      }
      obj = getPrototypeOf(obj);
      if (firstProto === undefined) firstProto = obj;
    }
    if (firstProto === null) return null;
    if (recurseTimes > ctx.depth) return 'Object <Complex prototype>';
    const protoConstructor = getConstructorName(firstProto, ctx, recurseTimes + 1);
    if (protoConstructor === null) {
      return `Object <${inspect(firstProto, { ...ctx, customInspect: false, depth: -1 })}>`;
    }
    return `Object <${protoConstructor}>`;
  }

  function getPrefix(constructor, tag, fallback, size = '') {
    if (constructor === null) {
      if (tag !== '' && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
      return `[${fallback}${size}: null prototype] `;
    }
    if (tag !== '' && constructor !== tag) return `${constructor}${size} [${tag}] `;
    return `${constructor}${size} `;
  }

  function getCtxStyle(value, kind, constructor, tag) {
    let fallback = '';
    if (constructor === null) {
      fallback = internalConstructorName(value, kind);
      if (fallback === tag) fallback = 'Object';
    }
    return getPrefix(constructor, tag, fallback);
  }

  // Own enumerable keys (all own keys with showHidden), symbols last.
  function getKeys(value, showHidden) {
    const keys = showHidden ? getOwnPropertyNames(value) : objectKeys(value);
    for (const symbol of getOwnPropertySymbols(value)) {
      if (showHidden || propertyIsEnumerable(value, symbol)) keys.push(symbol);
    }
    return keys;
  }

  // The keys of an array or typed array that are not indices.
  function getNonIndexKeys(value, length, showHidden) {
    if (length > kMaxScannedLength) return [];
    const keys = [];
    for (const key of ownKeys(value)) {
      if (typeof key === 'string' && numberRegExp.test(key) && +key < 2 ** 32 - 1) continue;
      if (showHidden || propertyIsEnumerable(value, key)) keys.push(key);
    }
    return keys;
  }

  function userOptions(ctx) {
    const options = { stylize: (text) => text, colors: false };
    for (const key of objectKeys(inspectDefaults)) options[key] = ctx[key];
    return options;
  }

  function formatValue(ctx, value, recurseTimes, typedArray) {
    if (typeof value !== 'object' && typeof value !== 'function') return formatPrimitive(value, ctx);
    if (value === null) return 'null';
    const seenLength = ctx.seen.length;
    const indentationLvl = ctx.indentationLvl;
    try {
      if (ctx.customInspect) {
        const custom = value[customInspectSymbol];
        if (
          typeof custom === 'function' &&
          custom !== inspect &&
          getOwnPropertyDescriptor(value, 'constructor')?.value?.prototype !== value
        ) {
          const result = apply(custom, value, [ctx.depth - recurseTimes, userOptions(ctx), inspect]);
          if (result !== value) {
            if (typeof result !== 'string') return formatValue(ctx, result, recurseTimes);
            return result.replaceAll('\n', `\n${' '.repeat(ctx.indentationLvl)}`);
          }
        }
      }
      if (ctx.seen.includes(value)) {
        ctx.circular ??= new Map();
        let index = ctx.circular.get(value);
        if (index === undefined) {
          index = ctx.circular.size + 1;
          ctx.circular.set(value, index);
        }
        return `[Circular *${index}]`;
      }
      return formatRaw(ctx, value, recurseTimes, typedArray);
    } catch (error) {
      ctx.seen.length = seenLength;
      ctx.indentationLvl = indentationLvl;
      return inspectionThrew(error);
    }
  }

  const noEntries = () => [];

  function formatRaw(ctx, value, recurseTimes, typedArray) {
    const constructor = getConstructorName(value, ctx, recurseTimes);
    let tag = value[Symbol.toStringTag];
    // Only list the tag when it is not an own (enumerable) property, which
    // would be printed anyway.
    if (
      typeof tag !== 'string' ||
      (tag !== '' && (ctx.showHidden ? hasOwn : propertyIsEnumerable)(value, Symbol.toStringTag))
    ) {
      tag = '';
    }
    const kind = builtinKind(value, constructor);
    let base = '';
    let formatter = noEntries;
    let braces;
    let keys;
    let extrasType = kObjectType;

    if (kind === 'Array') {
      const prefix =
        constructor !== 'Array' || tag !== '' ? getPrefix(constructor, tag, 'Array', `(${value.length})`) : '';
      keys = getNonIndexKeys(value, value.length, ctx.showHidden);
      braces = [`${prefix}[`, ']'];
      if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
      extrasType = kArrayExtrasType;
      formatter = formatArray;
    } else if (kind === 'Set' || kind === 'Map') {
      const size = kind === 'Set' ? setSize(value) : mapSize(value);
      const prefix = getPrefix(constructor, tag, kind, `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = kind === 'Set' ? formatSet : formatMap;
      if (size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
    } else if (kind === 'TypedArray') {
      const size = typedArrayLength(value);
      keys = getNonIndexKeys(value, size, ctx.showHidden);
      const prefix = getPrefix(constructor, tag, constructor === null ? typedArrayName(value) : '', `(${size})`);
      braces = [`${prefix}[`, ']'];
      if (size === 0 && keys.length === 0 && !ctx.showHidden) return `${braces[0]}]`;
      formatter = formatTypedArray.bind(null, size);
      extrasType = kArrayExtrasType;
    } else {
      keys = getKeys(value, ctx.showHidden);
      braces = ['{', '}'];
      if (kind === 'Function') {
        base = getFunctionBase(ctx, value, constructor, tag);
        if (keys.length === 0) return base;
      } else if (constructor === 'Object') {
        if (kind === 'Arguments') {
          braces[0] = '[Arguments] {';
        } else if (tag !== '') {
          braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
        }
        if (keys.length === 0) return `${braces[0]}}`;
      } else if (kind === 'RegExp') {
        base = regExpToString(constructor !== null ? value : new RegExp(value));
        const prefix = getPrefix(constructor, tag, 'RegExp');
        if (prefix !== 'RegExp ') base = `${prefix}${base}`;
        if (keys.length === 0 || recurseTimes > ctx.depth) return base;
      } else if (kind === 'Date') {
        base = Number.isNaN(dateGetTime(value)) ? dateToString(value) : dateToISOString(value);
        const prefix = getPrefix(constructor, tag, 'Date');
        if (prefix !== 'Date ') base = `${prefix}${base}`;
        if (keys.length === 0) return base;
      } else if (kind === 'Error') {
        base = formatError(value, constructor, tag, ctx, keys);
        if (keys.length === 0) return base;
      } else if (kind === 'ArrayBuffer' || kind === 'SharedArrayBuffer') {
        const prefix = getPrefix(constructor, tag, kind);
        if (typedArray === undefined) {
          formatter = formatArrayBuffer;
        } else if (keys.length === 0) {
          return `${prefix}{ byteLength: ${formatNumber(value.byteLength)} }`;
        }
        braces[0] = `${prefix}{`;
        keys.unshift('byteLength');
      } else if (kind === 'DataView') {
        braces[0] = `${getPrefix(constructor, tag, 'DataView')}{`;
        keys.unshift('byteLength', 'byteOffset', 'buffer');
      } else if (kind === 'Promise') {
        braces[0] = `${getPrefix(constructor, tag, 'Promise')}{`;
        formatter = () => ['<unknown>'];
      } else if (kind === 'WeakSet' || kind === 'WeakMap') {
        braces[0] = `${getPrefix(constructor, tag, kind)}{`;
        formatter = () => ['<items unknown>'];
      } else if (brandChecks.has(kind)) {
        base = getBoxedBase(value, ctx, keys, kind, constructor, tag);
        if (keys.length === 0) return base;
      } else {
        braces[0] = `${getCtxStyle(value, kind, constructor, tag)}{`;
        if (keys.length === 0) return `${braces[0]}}`;
      }
    }

    if (recurseTimes > ctx.depth) {
      const name = getCtxStyle(value, kind, constructor, tag).slice(0, -1);
      return constructor !== null ? `[${name}]` : name;
    }
    recurseTimes += 1;
    ctx.seen.push(value);
    ctx.currentDepth = recurseTimes;
    const output = formatter(ctx, value, recurseTimes);
    for (const key of keys) {
      output.push(formatProperty(ctx, value, recurseTimes, key, extrasType));
    }
    const index = ctx.circular?.get(value);
    if (index !== undefined) {
      const reference = `<ref *${index}>`;
      base = base === '' ? reference : `${reference} ${base}`;
    }
    ctx.seen.pop();

    const result = reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
    // Once the output grows huge, stop descending into further objects.
    const length = (ctx.budget[ctx.indentationLvl] || 0) + result.length;
    ctx.budget[ctx.indentationLvl] = length;
    if (length > 2 ** 27) ctx.depth = -1;
    return result;
  }

  function getBoxedBase(value, ctx, keys, type, constructor, tag) {
    const primitive = {
      Number: Number.prototype.valueOf,
      String: String.prototype.valueOf,
      Boolean: Boolean.prototype.valueOf,
      BigInt: BigInt.prototype.valueOf,
      Symbol: Symbol.prototype.valueOf,
    }[type];
    const unboxed = apply(primitive, value, []);
    if (type === 'String') {
      // The indices of a boxed string only repeat its characters.
      keys.splice(0, unboxed.length);
    }
    let base = `[${type}`;
    if (type !== constructor) base += constructor === null ? ' (null prototype)' : ` (${constructor})`;
    base += `: ${formatPrimitive(unboxed, ctx)}]`;
    if (tag !== '' && tag !== constructor) base += ` [${tag}]`;
    return base;
  }

  function getClassBase(value, constructor, tag) {
    const name = (hasOwn(value, 'name') && value.name) || '(anonymous)';
    let base = `class ${name}`;
    if (constructor !== 'Function' && constructor !== null) base += ` [${constructor}]`;
    if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
    if (constructor !== null) {
      const superName = getPrototypeOf(value).name;
      if (superName) base += ` extends ${superName}`;
    } else {
      base += ' extends [null prototype]';
    }
    return `[${base}]`;
  }

  function getFunctionBase(ctx, value, constructor, tag) {
    const source = functionToString(value);
    if (source.startsWith('class') && source.endsWith('}')) {
      const slice = source.slice(5, -1);
      const bracketIndex = slice.indexOf('{');
      if (
        bracketIndex !== -1 &&
        (!slice.slice(0, bracketIndex).includes('(') ||
          classRegExp.exec(slice.replace(stripCommentsRegExp, '')) !== null)
      ) {
        return getClassBase(value, constructor, tag);
      }
    }
    const proto = getPrototypeOf(value);
    let type = 'Function';
    if (proto === GeneratorFunctionPrototype || proto === AsyncGeneratorFunctionPrototype) type = `Generator${type}`;
    if (proto === AsyncFunctionPrototype || proto === AsyncGeneratorFunctionPrototype) type = `Async${type}`;
    let base = `[${type}`;
    if (constructor === null) base += ' (null prototype)';
    if (value.name === '') {
      base += ' (anonymous)';
    } else {
      base += `: ${typeof value.name === 'string' ? value.name : formatValue(ctx, value.name)}`;
    }
    base += ']';
    if (constructor !== type && constructor !== null) base += ` ${constructor}`;
    if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
    return base;
  }

  // Errors.

  function identicalSequenceRange(a, b) {
    for (let i = 0; i < a.length - 3; i++) {
      const pos = b.indexOf(a[i]);
      if (pos !== -1) {
        const rest = b.length - pos;
        if (rest > 3) {
          let len = 1;
          const maxLen = Math.min(a.length - i, rest);
          while (maxLen > len && a[i + len] === b[pos + len]) len++;
          if (len > 3) return { len, offset: i };
        }
      }
    }
    return { len: 0, offset: 0 };
  }

  // The stack as V8 would have it: QuickJS records only the frames, without
  // the "Name: message" line V8 puts first.
  function getStackString(ctx, error) {
    const stack = error.stack;
    if (!stack) return errorToString(error);
    if (typeof stack !== 'string') return formatValue(ctx, stack);
    if (!stack.startsWith('    at ')) return stack;
    return `${errorToString(error)}\n${stack.endsWith('\n') ? stack.slice(0, -1) : stack}`;
  }

  function getStackFrames(ctx, error, stack) {
    const frames = stack.split('\n');
    let cause;
    try {
      cause = error.cause;
    } catch {
      // A throwing `cause` getter is ignored.
    }
    // Remove the frames the cause's stack shares.
    if (cause !== null && cause !== undefined && (isNativeError(cause) || cause instanceof Error)) {
      const causeStack = getStackString(ctx, cause);
      const causeStackStart = causeStack.indexOf('\n    at');
      if (causeStackStart !== -1) {
        const causeFrames = causeStack.slice(causeStackStart + 1).split('\n');
        const { len, offset } = identicalSequenceRange(frames, causeFrames);
        if (len > 0) {
          const skipped = len - 2;
          frames.splice(offset + 1, skipped, `    ... ${skipped} lines matching cause stack trace ...`);
        }
      }
    }
    return frames;
  }

  function improveStack(stack, constructor, name, tag) {
    let len = name.length;
    const nameText = String(name);
    if (typeof name !== 'string') {
      stack = stack.replace(nameText, `${nameText} [${getPrefix(constructor, tag, 'Error').slice(0, -1)}]`);
    }
    if (
      constructor === null ||
      (nameText.endsWith('Error') &&
        stack.startsWith(nameText) &&
        (stack.length === len || stack[len] === ':' || stack[len] === '\n'))
    ) {
      let fallback = 'Error';
      if (constructor === null) {
        const start = /^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n {4}at)/.exec(stack) || /^([a-z_A-Z0-9-]*Error)$/.exec(stack);
        fallback = start?.[1] || '';
        len = fallback.length;
        fallback ||= 'Error';
      }
      const prefix = getPrefix(constructor, tag, fallback).slice(0, -1);
      if (name !== prefix) {
        if (prefix.includes(nameText)) {
          stack = len === 0 ? `${prefix}: ${stack}` : `${prefix}${stack.slice(len)}`;
        } else {
          stack = `${prefix} [${nameText}]${stack.slice(len)}`;
        }
      }
    }
    return stack;
  }

  // Hide name, message and stack when the stack already shows them.
  function removeDuplicateErrorKeys(ctx, keys, error, stack) {
    if (ctx.showHidden || keys.length === 0) return;
    for (const name of ['name', 'message', 'stack']) {
      const index = keys.indexOf(name);
      if (index !== -1 && stack.includes(error[name])) {
        keys.splice(index, 1);
      }
    }
  }

  function formatError(error, constructor, tag, ctx, keys) {
    const name = error.name != null ? error.name : 'Error';
    let stack = getStackString(ctx, error);
    removeDuplicateErrorKeys(ctx, keys, error, stack);
    if ('cause' in error && !keys.includes('cause')) keys.push('cause');
    if (isArray(error.errors) && !keys.includes('errors')) keys.push('errors');
    stack = improveStack(stack, constructor, name, tag);

    // Frames start after the message, which may contain "\n    at" itself.
    const message = error.message;
    let pos = (message && stack.indexOf(message)) || -1;
    if (pos !== -1) pos += message.length;
    const stackStart = stack.indexOf('\n    at', pos);
    if (stackStart === -1) {
      // Errors without frames are wrapped in brackets.
      stack = `[${stack}]`;
    } else {
      const frames = getStackFrames(ctx, error, stack.slice(stackStart + 1));
      stack = `${stack.slice(0, stackStart)}\n${frames.join('\n')}`;
    }
    if (ctx.indentationLvl !== 0) {
      stack = stack.replaceAll('\n', `\n${' '.repeat(ctx.indentationLvl)}`);
    }
    return stack;
  }

  // Entries.

  const remainingText = (remaining) => `... ${remaining} more item${remaining > 1 ? 's' : ''}`;

  function formatArray(ctx, value, recurseTimes) {
    const length = Math.min(Math.max(0, ctx.maxArrayLength), value.length);
    const remaining = value.length - length;
    const output = [];
    for (let i = 0; i < length; i++) {
      if (!hasOwn(value, i)) return formatSparseArray(ctx, value, recurseTimes, length, output, i);
      output.push(formatProperty(ctx, value, recurseTimes, i, kArrayType));
    }
    if (remaining > 0) output.push(remainingText(remaining));
    return output;
  }

  // The rest of an array from its first hole on.
  function formatSparseArray(ctx, value, recurseTimes, maxLength, output, i) {
    const keys = objectKeys(value);
    let index = i;
    for (; i < keys.length && output.length < maxLength; i++) {
      const key = keys[i];
      const tmp = +key;
      if (tmp > 2 ** 32 - 2) break;
      if (`${index}` !== key) {
        if (!numberRegExp.test(key)) break;
        const emptyItems = tmp - index;
        output.push(`<${emptyItems} empty item${emptyItems > 1 ? 's' : ''}>`);
        index = tmp;
        if (output.length === maxLength) break;
      }
      output.push(formatProperty(ctx, value, recurseTimes, key, kArrayType));
      index++;
    }
    const remaining = value.length - index;
    if (output.length !== maxLength) {
      if (remaining > 0) output.push(`<${remaining} empty item${remaining > 1 ? 's' : ''}>`);
    } else if (remaining > 0) {
      output.push(remainingText(remaining));
    }
    return output;
  }

  function formatArrayBuffer(ctx, value) {
    let bytes;
    try {
      bytes = new Uint8Array(value);
    } catch {
      return ['(detached)'];
    }
    const shown = Math.min(ctx.maxArrayLength, bytes.length);
    const hex = [];
    for (let i = 0; i < shown; i++) hex.push(bytes[i].toString(16).padStart(2, '0'));
    let contents = hex.join(' ');
    const remaining = bytes.length - ctx.maxArrayLength;
    if (remaining > 0) contents += ` ... ${remaining} more byte${remaining > 1 ? 's' : ''}`;
    return [`[Uint8Contents]: <${contents}>`];
  }

  function formatTypedArray(length, ctx, value, recurseTimes) {
    const maxLength = Math.min(Math.max(0, ctx.maxArrayLength), length);
    const output = [];
    for (let i = 0; i < maxLength; i++) {
      const element = value[i];
      output.push(typeof element === 'bigint' ? formatBigInt(element) : formatNumber(element));
    }
    if (length > maxLength) output.push(remainingText(length - maxLength));
    if (ctx.showHidden) {
      ctx.indentationLvl += 2;
      for (const key of ['BYTES_PER_ELEMENT', 'length', 'byteLength', 'byteOffset', 'buffer']) {
        output.push(`[${key}]: ${formatValue(ctx, value[key], recurseTimes, true)}`);
      }
      ctx.indentationLvl -= 2;
    }
    return output;
  }

  function formatSet(ctx, value, recurseTimes) {
    const length = setSize(value);
    const maxLength = Math.min(Math.max(0, ctx.maxArrayLength), length);
    const output = [];
    ctx.indentationLvl += 2;
    for (const entry of setValues(value)) {
      if (output.length >= maxLength) break;
      output.push(formatValue(ctx, entry, recurseTimes));
    }
    if (length > maxLength) output.push(remainingText(length - maxLength));
    ctx.indentationLvl -= 2;
    return output;
  }

  function formatMap(ctx, value, recurseTimes) {
    const length = mapSize(value);
    const maxLength = Math.min(Math.max(0, ctx.maxArrayLength), length);
    const output = [];
    ctx.indentationLvl += 2;
    for (const [key, entry] of mapEntries(value)) {
      if (output.length >= maxLength) break;
      output.push(`${formatValue(ctx, key, recurseTimes)} => ${formatValue(ctx, entry, recurseTimes)}`);
    }
    if (length > maxLength) output.push(remainingText(length - maxLength));
    ctx.indentationLvl -= 2;
    return output;
  }

  // A getter of a document's node: native, on a frozen object. (How a
  // native function's source ends; no script's can end so but in a comment.)
  const isDataGetter = (object, get) =>
    isFrozen(object) && typeof get === 'function' && stringEndsWith(functionToString(get), '[native code]\n}');

  function formatProperty(ctx, value, recurseTimes, key, type) {
    const desc = getOwnPropertyDescriptor(value, key) || { value: value[key], enumerable: true };
    let str;
    if (desc.get !== undefined && isDataGetter(value, desc.get)) {
      ctx.indentationLvl += 2;
      str = formatValue(ctx, apply(desc.get, value, []), recurseTimes);
      ctx.indentationLvl -= 2;
    } else if (desc.value !== undefined) {
      ctx.indentationLvl += 2;
      str = formatValue(ctx, desc.value, recurseTimes);
      ctx.indentationLvl -= 2;
    } else if (desc.get !== undefined) {
      str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';
    } else if (desc.set !== undefined) {
      str = '[Setter]';
    } else {
      str = 'undefined';
    }
    if (type === kArrayType) return str;
    let name;
    if (typeof key === 'symbol') {
      name = `[${symbolToString(key).replace(strEscapeSequencesReplacer, escapeFn)}]`;
    } else if (key === '__proto__') {
      name = "['__proto__']";
    } else if (desc.enumerable === false) {
      name = `[${key.replace(strEscapeSequencesReplacer, escapeFn)}]`;
    } else if (keyStrRegExp.test(key)) {
      name = key;
    } else {
      name = strEscape(key);
    }
    return `${name}: ${str}`;
  }

  // Layout.

  // Lay out long arrays of short entries in aligned columns.
  function groupArrayElements(ctx, output, value) {
    let totalLength = 0;
    let maxLength = 0;
    let outputLength = output.length;
    // The "... more items" entry is not grouped.
    if (ctx.maxArrayLength < output.length) outputLength--;
    const separatorSpace = 2; // ", "
    const dataLen = new Array(outputLength);
    for (let i = 0; i < outputLength; i++) {
      const len = getStringWidth(output[i]);
      dataLen[i] = len;
      totalLength += len + separatorSpace;
      if (maxLength < len) maxLength = len;
    }
    const actualMax = maxLength + separatorSpace;
    // Only group when at least three entries fit on a line and the entries
    // have similar lengths.
    if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength && (totalLength / actualMax > 5 || maxLength <= 6)) {
      const approxCharHeights = 2.5;
      const averageBias = Math.sqrt(actualMax - totalLength / output.length);
      const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
      const columns = Math.min(
        Math.round(Math.sqrt(approxCharHeights * biasedMax * outputLength) / biasedMax),
        Math.floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
        ctx.compact * 4,
        15,
      );
      if (columns <= 1) return output;
      const maxLineLength = [];
      for (let i = 0; i < columns; i++) {
        let lineMaxLength = 0;
        for (let j = i; j < output.length; j += columns) {
          if (dataLen[j] > lineMaxLength) lineMaxLength = dataLen[j];
        }
        maxLineLength.push(lineMaxLength + separatorSpace);
      }
      // Numbers are right-aligned, everything else left-aligned.
      let padStart = true;
      for (let i = 0; i < output.length; i++) {
        if (typeof value[i] !== 'number' && typeof value[i] !== 'bigint') {
          padStart = false;
          break;
        }
      }
      const grouped = [];
      for (let i = 0; i < outputLength; i += columns) {
        const max = Math.min(i + columns, outputLength);
        let line = '';
        let j = i;
        for (; j < max - 1; j++) {
          const padding = maxLineLength[j - i] + output[j].length - dataLen[j];
          line += padStart ? `${output[j]}, `.padStart(padding, ' ') : `${output[j]}, `.padEnd(padding, ' ');
        }
        if (padStart) {
          const padding = maxLineLength[j - i] + output[j].length - dataLen[j] - separatorSpace;
          line += output[j].padStart(padding, ' ');
        } else {
          line += output[j];
        }
        grouped.push(line);
      }
      if (ctx.maxArrayLength < output.length) grouped.push(output[outputLength]);
      output = grouped;
    }
    return output;
  }

  function isBelowBreakLength(ctx, output, start, base) {
    let totalLength = output.length + start;
    if (totalLength + output.length > ctx.breakLength) return false;
    for (const entry of output) {
      totalLength += entry.length;
      if (totalLength > ctx.breakLength) return false;
    }
    // Entries are not lined up after a base that spans several lines.
    return base === '' || !base.includes('\n');
  }

  function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
    if (typeof ctx.compact === 'number' && ctx.compact >= 1) {
      const entries = output.length;
      if (extrasType === kArrayExtrasType && entries > 6) {
        output = groupArrayElements(ctx, output, value);
      }
      // Put the entries of the innermost `compact` levels on a single line
      // when they fit in breakLength.
      if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
        const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
        if (isBelowBreakLength(ctx, output, start, base)) {
          const joined = output.join(', ');
          if (!joined.includes('\n')) {
            return `${base ? `${base} ` : ''}${braces[0]} ${joined} ${braces[1]}`;
          }
        }
      }
    }
    const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }

  // util.inspect(value, options) for the options in inspectDefaults.
  function inspect(value, options) {
    const ctx = { ...inspectDefaults, budget: {}, indentationLvl: 0, seen: [], currentDepth: 0, circular: undefined };
    try {
      if (options !== null && typeof options === 'object') {
        for (const key of objectKeys(inspectDefaults)) {
          if (options[key] !== undefined) ctx[key] = options[key];
        }
      }
      for (const key of ['depth', 'maxArrayLength', 'maxStringLength']) {
        if (ctx[key] === null) ctx[key] = Infinity;
      }
      return formatValue(ctx, value, 0);
    } catch (error) {
      return inspectionThrew(error);
    }
  }

  // util.format.

  // Whether an object's string conversion comes from a built-in, in which
  // case %s inspects it instead.
  function hasBuiltInToString(value) {
    let hasOwnToString = hasOwn;
    let hasOwnToPrimitive = hasOwn;
    const never = () => false;
    if (typeof value.toString !== 'function') {
      if (typeof value[Symbol.toPrimitive] !== 'function') return true;
      if (hasOwn(value, Symbol.toPrimitive)) return false;
      hasOwnToString = never;
    } else if (hasOwn(value, 'toString')) {
      return false;
    } else if (typeof value[Symbol.toPrimitive] !== 'function') {
      hasOwnToPrimitive = never;
    } else if (hasOwn(value, Symbol.toPrimitive)) {
      return false;
    }
    let pointer = value;
    do {
      pointer = getPrototypeOf(pointer);
    } while (!hasOwnToString(pointer, 'toString') && !hasOwnToPrimitive(pointer, Symbol.toPrimitive));
    const descriptor = getOwnPropertyDescriptor(pointer, 'constructor');
    return (
      descriptor !== undefined && typeof descriptor.value === 'function' && builtInObjects.has(descriptor.value.name)
    );
  }

  const firstLine = (error) => String(error.message).split('\n', 1)[0];
  const circularErrorMessage = (() => {
    const circular = {};
    circular.circular = circular;
    try {
      JSON.stringify(circular);
    } catch (error) {
      return firstLine(error);
    }
  })();

  function stringifyJson(value) {
    try {
      return JSON.stringify(value);
    } catch (error) {
      if (error instanceof TypeError && firstLine(error) === circularErrorMessage) return '[Circular]';
      throw error;
    }
  }

  const formatString = (value) => {
    if (typeof value === 'number') return formatNumber(value);
    if (typeof value === 'bigint') return formatBigInt(value);
    if (typeof value !== 'object' || value === null || !hasBuiltInToString(value)) return String(value);
    return inspect(value, { depth: 0 });
  };
  const formatDecimal = (value) => {
    if (typeof value === 'bigint') return formatBigInt(value);
    if (typeof value === 'symbol') return 'NaN';
    return formatNumber(Number(value));
  };
  const specifiers = {
    s: formatString,
    j: stringifyJson,
    d: formatDecimal,
    O: (value) => inspect(value),
    o: (value) => inspect(value, { showHidden: true, depth: 4 }),
    i: (value) => {
      if (typeof value === 'bigint') return formatBigInt(value);
      if (typeof value === 'symbol') return 'NaN';
      return formatNumber(parseInt(value));
    },
    f: (value) => (typeof value === 'symbol' ? 'NaN' : formatNumber(parseFloat(value))),
    c: () => '',
  };

  // util.format(...args): printf-like substitution into a leading string,
  // then the remaining arguments, inspected unless they are strings.
  function format(args) {
    const first = args[0];
    let a = 0;
    let str = '';
    let join = '';
    if (typeof first === 'string') {
      if (args.length === 1) return first;
      let lastPos = 0;
      for (let i = 0; i < first.length - 1; i++) {
        if (first.charCodeAt(i) !== 37) continue; // '%'
        const next = first[++i];
        if (a + 1 !== args.length) {
          if (next === '%') {
            str += first.slice(lastPos, i);
            lastPos = i + 1;
            continue;
          }
          if (!hasOwn(specifiers, next)) continue;
          let replacement;
          try {
            replacement = specifiers[next](args[++a]);
          } catch (error) {
            replacement = inspectionThrew(error);
          }
          if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
          str += replacement;
          lastPos = i + 1;
        } else if (next === '%') {
          str += first.slice(lastPos, i);
          lastPos = i + 1;
        }
      }
      if (lastPos !== 0) {
        a++;
        join = ' ';
        if (lastPos < first.length) str += first.slice(lastPos);
      }
    }
    while (a < args.length) {
      const value = args[a];
      str += join;
      str += typeof value !== 'string' ? inspect(value) : value;
      join = ' ';
      a++;
    }
    return str;
  }

  internal.inspect = inspect;
  internal.format = format;
  // Shared with the web APIs.
  internal.uncurry = uncurry;
  internal.getter = getter;
  internal.passes = passes;
});
