declare namespace mutual_recursion {
    type Expr = Literal | Call;
    type Literal = {
        value: number | string;
    };
    type Call = {
        fn: string;
        args: Expr[];
    };
    /** Corpus schema `mutual-recursion`. */
    function mutual_recursion(args: Expr): Promise<unknown>;
}
