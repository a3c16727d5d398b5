// atob and btoa: the forgiving base64 of the HTML standard, on strings
// whose characters are bytes.
//
// Evaluated once at build time, after dom_exception.js.
(function installBase64(native, internal) {
  'use strict';

  const { DOMException, define, toDOMString, missingArguments } = internal;

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

  define(globalThis, 'atob', atob);
  define(globalThis, 'btoa', btoa);
});
