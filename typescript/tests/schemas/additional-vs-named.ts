declare namespace additional_vs_named {
    /** Corpus schema `additional-vs-named`. */
    function additional_vs_named(args: {
        id: number;
        label?: string;
        nested?: {
            x?: number;
        };
        [key: string]: unknown;
    }): Promise<unknown>;
}
