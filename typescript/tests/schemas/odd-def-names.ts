declare namespace odd_def_names {
    type OddDefNamesRepositoryAdvisory = {
        ghsa_id?: string;
    };
    type RepositoryAdvisory = string;
    type _2fa = boolean;
    /** Shadowing Promise would break the signatures */
    type Promise_ = string;
    type ABC = number;
    type Class = number;
    type _ = null;
    /** Corpus schema `odd-def-names`. */
    function odd_def_names(args?: {
        p?: OddDefNamesRepositoryAdvisory;
        q?: RepositoryAdvisory;
        r?: _2fa;
        s?: Promise_;
        t?: ABC;
        u?: Class;
        v?: _;
        w?: OddDefNamesRepositoryAdvisory;
    }): Promise<unknown>;
}
