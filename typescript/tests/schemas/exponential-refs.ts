declare namespace exponential_refs {
    type T0 = string;
    type T1 = {
        l: T0;
        r: T0;
    };
    type T2 = {
        l: T1;
        r: T1;
    };
    type T3 = {
        l: T2;
        r: T2;
    };
    type T4 = {
        l: T3;
        r: T3;
    };
    type T5 = {
        l: T4;
        r: T4;
    };
    type T6 = {
        l: T5;
        r: T5;
    };
    type T7 = {
        l: T6;
        r: T6;
    };
    type T8 = {
        l: T7;
        r: T7;
    };
    type T9 = {
        l: T8;
        r: T8;
    };
    type T10 = {
        l: T9;
        r: T9;
    };
    type T11 = {
        l: T10;
        r: T10;
    };
    type T12 = {
        l: T11;
        r: T11;
    };
    type T13 = {
        l: T12;
        r: T12;
    };
    type T14 = {
        l: T13;
        r: T13;
    };
    type T15 = {
        l: T14;
        r: T14;
    };
    type T16 = {
        l: T15;
        r: T15;
    };
    type T17 = {
        l: T16;
        r: T16;
    };
    type T18 = {
        l: T17;
        r: T17;
    };
    type T19 = {
        l: T18;
        r: T18;
    };
    type T20 = {
        l: T19;
        r: T19;
    };
    type T21 = {
        l: T20;
        r: T20;
    };
    type T22 = {
        l: T21;
        r: T21;
    };
    type T23 = {
        l: T22;
        r: T22;
    };
    type T24 = {
        l: T23;
        r: T23;
    };
    /** Corpus schema `exponential-refs`. */
    function exponential_refs(args: T24): Promise<unknown>;
}
