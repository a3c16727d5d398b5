// structuredClone.
//
// Evaluated once at build time, after dom_exception.js and url.js.
//
// Deliberate differences from the standard and from Node: structuredClone
// follows browsers where Node 20 does not: DOMException clones, URL and
// URLSearchParams throw, a non-ArrayBuffer in `transfer` throws a
// DataCloneError. Its errors name functions as inspect does
// (`[Function: f] could not be cloned.`) rather than by their source. It
// returns a SharedArrayBuffer itself (no new object sharing its memory) and
// clones proxies and generator objects through their visible properties
// instead of throwing.
(function installStructuredClone(native, internal) {
  'use strict';

  const { defineProperty, getOwnPropertyDescriptor, hasOwn, keys: objectKeys } = Object;
  const {
    inspect,
    uncurry,
    getter,
    passes,
    define,
    missingArguments,
    typedArrayName,
    typedArrayBuffer,
    typedArrayByteOffset,
    typedArrayLength,
    typedArrayConstructors,
    isDataView,
    DOMException,
    isDOMException,
    isURL,
    isSearchParams,
  } = internal;

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
    if (typeof value === 'function') description = inspect(value);
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

  define(globalThis, 'structuredClone', structuredClone);
});
