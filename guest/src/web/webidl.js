// WebIDL's conversions and the helpers every web API here shares: how a
// global is defined (non-enumerable, writable and configurable, as browsers
// do), a class's toStringTag, the error for missing arguments, and the brand
// checks of array buffer views that structuredClone and crypto read them by.
//
// Evaluated once at build time, after inspect.js and before the other web
// APIs, which take these from the internal object.
(function installWebIDL(native, internal) {
  'use strict';

  const { defineProperty, getPrototypeOf } = Object;
  const { getter, passes } = internal;
  const define = (target, name, value) =>
    defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
  const defineTag = (constructor, tag) =>
    defineProperty(constructor.prototype, Symbol.toStringTag, { value: tag, configurable: true });

  // WebIDL's conversion to a string: symbols throw a TypeError.
  const toDOMString = (value) => `${value}`;
  // And to a USVString: lone surrogates become U+FFFD.
  const toUSVString = (value) => `${value}`.toWellFormed();

  const missingArguments = (name, count) => new TypeError(`${name} requires ${count} argument${count > 1 ? 's' : ''}`);

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
  const isDataView = passes(getter(DataView.prototype, 'buffer'));

  internal.define = define;
  internal.defineTag = defineTag;
  internal.toDOMString = toDOMString;
  internal.toUSVString = toUSVString;
  internal.missingArguments = missingArguments;
  internal.typedArrayName = typedArrayName;
  internal.typedArrayBuffer = typedArrayBuffer;
  internal.typedArrayByteOffset = typedArrayByteOffset;
  internal.typedArrayByteLength = typedArrayByteLength;
  internal.typedArrayLength = typedArrayLength;
  internal.typedArrayConstructors = typedArrayConstructors;
  internal.isDataView = isDataView;
});
