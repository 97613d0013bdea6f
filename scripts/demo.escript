#!/usr/bin/env escript
%%! -noshell
%%% `make demo': runs memacct_demo:main/1 from the built OTP app.
main(Args) ->
    Root = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    true = code:add_patha(filename:join(Root, "nif-erlang/_build/default/lib/memacct/ebin")),
    memacct_demo:main(Args).
