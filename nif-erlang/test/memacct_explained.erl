%%% @doc Test helper: checks that a call raises the explained `badarg' of
%%% the public function called — its top stack frame is that function with
%%% the caller's arguments and an `error_info' cause for the argument at
%%% fault — and that `erl_error:format_exception/3' (what the shell prints)
%%% names that function and that argument, never an internal helper.
-module(memacct_explained).

-include_lib("eunit/include/eunit.hrl").

-export([raises/5]).

%% `F' must raise `badarg' as `Mod:Fun(Args...)' with a cause for argument
%% `Pos'. Returns the explanation.
-spec raises(module(), atom(), [term()], pos_integer(), fun(() -> term())) -> binary().
raises(Mod, Fun, Args, Pos, F) ->
    try F() of
        R -> erlang:error({expected_badarg, {Mod, Fun, Args}, returned, R})
    catch
        error:badarg:St ->
            [{M, Fn, As, Info} | Callers] = St,
            ?assertEqual({Mod, Fun, Args}, {M, Fn, As}),
            ErrorInfo = proplists:get_value(error_info, Info),
            ?assertMatch(#{module := memacct, cause := #{Pos := Why}} when is_binary(Why),
                         ErrorInfo),
            #{cause := #{Pos := Why}} = ErrorInfo,
            ?assertEqual(#{Pos => Why}, memacct:format_error(badarg, St)),
            %% No frame of the module's internals is left under the public one.
            [?assert(erlang:function_exported(CM, CF, CA))
             || {CM, CF, CA, _} <- Callers, is_integer(CA),
                lists:member(CM, [memacct, memacct_pool, memacct_collect, memacct_decompose])],
            Text = lists:flatten(io_lib:format("~ts", [erl_error:format_exception(error, badarg, St)])),
            Arity = length(Args),
            In = lists:flatten(io_lib:format("in function  ~p:~p/~p", [Mod, Fun, Arity])),
            %% (a long explanation is wrapped: its start is on the argument's line)
            Arg = lists:flatten(io_lib:format("*** argument ~p: ~ts", [Pos, string:slice(Why, 0, 20)])),
            ?assertNotEqual({nomatch, Text}, {string:find(Text, In), Text}),
            ?assertNotEqual({nomatch, Text}, {string:find(Text, Arg), Text}),
            ?assertEqual({nomatch, Text}, {string:find(Text, "badarg/"), Text}),
            Why
    end.
