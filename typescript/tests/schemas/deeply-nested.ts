declare namespace deeply_nested {
    /** Corpus schema `deeply-nested`. */
    function deeply_nested(args: {
        level29: {
            level28: {
                level27: {
                    level26: {
                        level25: {
                            level24: {
                                level23: {
                                    level22: {
                                        level21: {
                                            level20: {
                                                level19: {
                                                    level18: {
                                                        level17: {
                                                            level16: {
                                                                level15: {
                                                                    level14: {
                                                                        level13: {
                                                                            level12: {
                                                                                level11: {
                                                                                    level10: {
                                                                                        level9: {
                                                                                            level8: {
                                                                                                level7: {
                                                                                                    level6: {
                                                                                                        level5: {
                                                                                                            level4: {
                                                                                                                level3: {
                                                                                                                    level2: {
                                                                                                                        level1: {
                                                                                                                            /** The bottom */
                                                                                                                            level0: string;
                                                                                                                        };
                                                                                                                    };
                                                                                                                };
                                                                                                            };
                                                                                                        };
                                                                                                    };
                                                                                                };
                                                                                            };
                                                                                        };
                                                                                    };
                                                                                };
                                                                            };
                                                                        };
                                                                    };
                                                                };
                                                            };
                                                        };
                                                    };
                                                };
                                            };
                                        };
                                    };
                                };
                            };
                        };
                    };
                };
            };
        };
    }): Promise<unknown>;
}
