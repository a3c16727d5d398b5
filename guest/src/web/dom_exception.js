// DOMException, for the errors of the web APIs and for scripts.
//
// Evaluated once at build time, after webidl.js.
//
// Deliberate difference from the standard: DOMException carries no legacy
// code constants (INDEX_SIZE_ERR...).
(function installDOMException(native, internal) {
  'use strict';

  const { hasOwn } = Object;
  const { define, defineTag, toDOMString } = internal;

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

  internal.DOMException = DOMException;
  internal.isDOMException = isDOMException;
  define(globalThis, 'DOMException', DOMException);
});
