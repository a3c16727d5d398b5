// crypto: getRandomValues and randomUUID, with bytes from the host's random
// source (see crypto.rs).
//
// Evaluated once at build time, after dom_exception.js.
//
// Deliberate differences from the standard and from Node: getRandomValues
// throws a TypeError for a non-view and a TypeMismatchError DOMException for
// float arrays and DataViews, as the Web Crypto standard says; crypto has no
// `subtle`.
(function installCrypto(native, internal) {
  'use strict';

  const { randomBytes } = native;
  const {
    define,
    defineTag,
    missingArguments,
    typedArrayName,
    typedArrayBuffer,
    typedArrayByteOffset,
    typedArrayByteLength,
    typedArrayConstructors,
    isDataView,
    DOMException,
  } = internal;

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
        new Uint8Array(randomBytes(byteLength)),
      );
      return array;
    }

    randomUUID() {
      const bytes = new Uint8Array(randomBytes(16));
      bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
      bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
      const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
  }
  defineTag(Crypto, 'Crypto');

  define(globalThis, 'crypto', new Crypto());
});
