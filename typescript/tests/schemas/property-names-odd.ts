declare namespace property_names_odd {
    /** Corpus schema `property-names-odd`. */
    function property_names_odd(args: {
        "with space": string;
        "quote\"d": number;
        "new\nline"?: boolean;
        /** A property named *\/ which must not end a comment */
        "*/"?: string;
        "0starts-with-digit"?: string;
        "kebab-case"?: string;
        $dollar?: string;
        _under?: string;
        /** Reserved words are fine as property names */
        delete?: string;
        "ünïcödé"?: string;
        /** The empty name */
        ""?: string;
        "back\\slash"?: string;
    }): Promise<unknown>;
}
