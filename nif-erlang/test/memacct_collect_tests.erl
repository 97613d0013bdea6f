%%% @doc EUnit tests of the collector's and the decomposition's answers to
%%% bad input: `{error, {invalid_option, Msg}}' for every bad snapshot
%%% option, `{error, {bad_snapshot, Msg}}' for a snapshot map that is not
%%% JSON, an explained badarg for a node list that is not one.
-module(memacct_collect_tests).

-include_lib("eunit/include/eunit.hrl").

invalid(Opts) ->
    ?assertMatch({error, {invalid_option, Msg}} when is_binary(Msg),
                 memacct:snapshot(Opts#{rss_bytes => 1 bsl 30})).

%% Improper pid lists and bad seeds were a function_clause from lists or
%% rand; every other bad option was already invalid_option.
snapshot_bad_options_are_invalid_option_test() ->
    Self = self(),
    [invalid(#{connection_pids => Bad}) || Bad <- [[Self | foo], [Self, Self | foo], [foo], foo]],
    [invalid(#{connection_pids => [Self], K => [Self | foo]})
     || K <- [infrastructure_pids, supervisor_pids]],
    [invalid(#{connection_pids => [Self], sample => 0, seed => Bad})
     || Bad <- [foo, {1, 2}, {a, b, c}, [a], 1.5]],
    [invalid(#{connection_pids => [Self], pool => Bad})
     || Bad <- [foo, [foo], [make_ref() | foo]]],
    {ok, _} = memacct:snapshot(#{connection_pids => [Self], sample => 1, seed => {1, 2, 3},
                                 rss_bytes => 1 bsl 30}).

%% A snapshot map holding what JSON cannot (a pid, a tuple key) is
%% bad_snapshot, as the documentation says, not an exception.
decompose_snapshot_not_json_test() ->
    {ok, S} = memacct:snapshot(#{connection_pids => [self()], sample => 0,
                                 rss_bytes => 1 bsl 30}),
    {ok, _} = memacct_decompose:decompose_snapshot(S, #{}),
    [?assertMatch({error, {bad_snapshot, Msg}} when is_binary(Msg),
                  memacct_decompose:decompose_snapshot(Bad, #{}))
     || Bad <- [#{foo => self()}, #{{a} => 1}, S#{extra => {1, 2}},
                S#{os => #{rss_bytes => make_ref()}}, S#{connections => #{[x] => 1}}]].

%% write_snapshot/2 of a map JSON cannot hold is bad_snapshot, and writes nothing.
write_snapshot_not_json_test() ->
    Path = filename:join(os:getenv("TMPDIR", "/tmp"),
                         "memacct_not_json_" ++ os:getpid() ++ ".json"),
    _ = file:delete(Path),
    [?assertMatch({error, {bad_snapshot, Msg}} when is_binary(Msg),
                  memacct:write_snapshot(Path, Bad))
     || Bad <- [#{foo => self()}, #{{a} => 1}]],
    ?assertEqual({error, enoent}, file:read_file_info(Path)).

%% The decomposition helpers' badargs are explained, naming the argument.
decompose_helpers_badarg_explained_test() ->
    M = memacct_decompose,
    [memacct_explained:raises(M, F, Args, Pos, fun() -> apply(M, F, Args) end)
     || {F, Args, Pos} <- [{format_report, [foo], 1}, {format_compact, [#{}], 1},
                           {to_json, [foo], 1}, {aggregate, [[foo]], 1},
                           {aggregate, [[#{json => <<"{}">>} | x]], 1},
                           {trend, [[foo], #{}], 1}, {trend, [[], foo], 2},
                           {series_trend, [x, [], #{}], 1},
                           {series_trend, [<<255>>, [{1, 2}], #{}], 1},
                           {series_trend, [<<"x">>, [{a, b}], #{}], 2},
                           {series_trend, [<<"x">>, [{1, 1 bsl 70}], #{}], 2},
                           {series_trend, [<<"x">>, [{1, 2} | x], #{}], 2},
                           {series_trend, [<<"x">>, [], foo], 3},
                           %% thresholds beyond what the NIF takes are the options'
                           {series_trend, [<<"x">>, [], #{min_points => 1 bsl 70}], 3},
                           {series_trend, [<<"x">>, [], #{min_span_hours => 1 bsl 1100}], 3},
                           {trend, [[], #{min_points => 1 bsl 64}], 2}]].

%% A node list holding a non-atom is an explained badarg of argument 1.
decompose_cluster_bad_nodes_test() ->
    [memacct_explained:raises(memacct_decompose, decompose_cluster, [Nodes, #{}], 1,
                              fun() -> memacct:decompose_cluster(Nodes, #{}) end)
     || Nodes <- [[foo, 1], [node() | foo], foo, [<<"a@b">>]]].

%% The decomposition's option badargs name the public function called and
%% the argument (they named nif_opts/1 and trend_opts/2, unexplained).
decompose_options_badarg_explained_test() ->
    X = fun(Fun, Args, Pos) ->
                memacct_explained:raises(memacct_decompose, Fun, Args, Pos,
                                         fun() -> apply(memacct_decompose, Fun, Args) end)
        end,
    X(decompose, [#{connection_pids => [self()], tolerance => -1}], 1),
    X(decompose, [not_a_map], 1),
    X(decompose_snapshot, [<<"{}">>, #{ci_method => bogus}], 2),
    X(decompose_snapshot, [#{}, #{epsilon => x}], 2),
    X(decompose_snapshot, [#{}, not_a_map], 2),
    X(decompose_snapshot, [42, #{}], 1),
    X(decompose_cluster, [[node()], #{tolerance => x}], 2),
    X(trend, [[], #{min_points => x}], 2),
    X(trend, [[], #{min_r_squared => -1}], 2),
    X(series_trend, [<<"rss">>, [], #{min_span_hours => x}], 3).
