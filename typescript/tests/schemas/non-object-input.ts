declare namespace non_object_input {
    /** Corpus schema `non-object-input`. */
    function non_object_input(args: string[]): Promise<unknown>;
}
