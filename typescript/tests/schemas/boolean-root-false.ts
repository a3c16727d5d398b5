declare namespace boolean_root_false {
    /** Corpus schema `boolean-root-false`. */
    function boolean_root_false(args?: never): Promise<unknown>;
}
