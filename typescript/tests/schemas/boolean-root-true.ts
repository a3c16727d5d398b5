declare namespace boolean_root_true {
    /** Corpus schema `boolean-root-true`. */
    function boolean_root_true(args?: unknown): Promise<unknown>;
}
