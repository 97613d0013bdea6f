#!/usr/bin/env escript
%%! -noshell +P 1048576
%%% `make demo': runs memacct_demo:main/2 from the built OTP app
%%% (flags: --connections N, --out DIR, --help).
main(Args) ->
    Root = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    true = code:add_patha(filename:join(Root, "nif-erlang/_build/default/lib/memacct/ebin")),
    memacct_demo:main(Args, Root).
