declare namespace additional_compatible {
    /** Corpus schema `additional-compatible`. */
    function additional_compatible(args: {
        a: string;
        b?: number;
        [key: string]: boolean | string | number | undefined;
    }): Promise<unknown>;
}
