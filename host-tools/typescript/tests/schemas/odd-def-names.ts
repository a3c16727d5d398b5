declare namespace odd_def_names {
    type RepositoryAdvisory = {
        ghsa_id?: string;
    };
    type OddDefNamesRepositoryAdvisory = string;
    type _2fa = boolean;
    /** Shadowing Promise would break the signatures */
    type Promise_ = string;
    type ABC = number;
    type Class = number;
    type _ = null;
    /** Corpus schema `odd-def-names`. */
    function odd_def_names(args?: {
        p?: RepositoryAdvisory;
        q?: OddDefNamesRepositoryAdvisory;
        r?: _2fa;
        s?: Promise_;
        t?: ABC;
        u?: Class;
        v?: _;
        w?: RepositoryAdvisory;
    }): Promise<unknown>;
}
