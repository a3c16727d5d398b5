declare namespace docs_and_tags {
    /** Corpus schema `docs-and-tags`. */
    function docs_and_tags(args: {
        /**
         * Name
         *
         * The thing's name
         *
         * @minLength 1
         * @maxLength 64
         * @pattern ^[a-z*\/]+$
         * @example box
         * @example crate
         */
        name: string;
        /**
         * @minimum 0
         * @exclusiveMaximum 100
         * @multipleOf 0.5
         * @default 1
         */
        size?: number;
        /**
         * Use `name` instead
         *
         * @deprecated
         */
        old?: string;
        /**
         * @minItems 0
         * @maxItems 10
         * @uniqueItems true
         * @default []
         */
        tags?: string[];
        /**
         * @format password
         * @writeOnly true
         * @example hunter2 *\/
         */
        secret?: string;
        /**
         * @contentMediaType image/png
         * @contentEncoding base64
         */
        blob?: string;
    }): Promise<unknown>;
}
