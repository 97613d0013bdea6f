%%% @doc The main job, as `make demo' runs it.
%%%
%%% Sizes a handful of realistic MCP connection states (built at run time by
%%% {@link memacct_sim}) three ways — `erts_debug:flat_size/1', the live-term
%%% NIF and the ETF path — and prints where each state's heap words go, by
%%% kind of object and by field.
-module(memacct_demo).

-export([main/1, run/1]).

-type opts() :: #{connections => pos_integer()}.

%% @doc Entry point for `scripts/demo.escript': parses flags and runs.
-spec main([string()]) -> ok.
main(Args) ->
    case parse(Args, #{}) of
        help -> io:put_chars(usage());
        {error, Msg} -> io:put_chars(standard_error, [Msg, "\n", usage()]), halt(2);
        Opts -> run(Opts)
    end.

usage() ->
    "usage: make demo [DEMO_ARGS='--connections N']\n"
    "  --connections N   how many connection states to size (default 5)\n"
    "  --help            this text\n".

parse([], Opts) -> Opts;
parse(["--help" | _], _) -> help;
parse(["-h" | _], _) -> help;
parse(["--connections", N | Rest], Opts) ->
    case string:to_integer(N) of
        {I, ""} when I > 0 -> parse(Rest, Opts#{connections => I});
        _ -> {error, "--connections needs a positive integer"}
    end;
parse([Other | _], _) -> {error, "unknown argument: " ++ Other}.

%% @doc Sizes `connections' states and prints the report.
-spec run(opts()) -> ok.
run(Opts) ->
    N = maps:get(connections, Opts, 5),
    io:format("memacct demo: sizing ~b realistic MCP connection states on OTP ~s~n~n",
              [N, erlang:system_info(otp_release)]),
    Ids = [1 + (I * 7919) rem 100000 || I <- lists:seq(1, N)],
    Rows = [row(Id) || Id <- Ids],
    io:format("~-10s ~10s ~10s ~10s ~10s ~12s ~12s~n",
              ["conn", "BIF words", "live", "ETF path", "heap KiB", "off-heap B", "ETF bytes"]),
    [io:format("~-10b ~10b ~10b ~10b ~10.1f ~12b ~12b~n",
               [Id, Bif, maps:get(words, Live), Etf, maps:get(bytes, Live) / 1024,
                maps:get(off_heap_bytes, Live), EtfBytes])
     || {Id, Bif, Live, Etf, EtfBytes} <- Rows],
    Agree = lists:all(fun({_, Bif, Live, Etf, _}) -> Bif =:= maps:get(words, Live) andalso Bif =:= Etf end, Rows),
    io:format("~nall three agree on every state: ~p~n", [Agree]),
    {_, _, First, _, _} = hd(Rows),
    io:format("~nwhere the words of connection ~b go, by kind:~n", [hd(Ids)]),
    Total = maps:get(words, First),
    [io:format("  ~-14s ~7b words  ~5.1f%~n", [Kind, W, 100 * W / max(Total, 1)])
     || {Kind, W} <- lists:reverse(lists:keysort(2, maps:to_list(maps:get(by_kind, First)))), W > 0],
    io:format("~nby field (key words + value words):~n"),
    Fields = lists:reverse(lists:keysort(3, [{L, K, V} || {L, K, V} <- maps:get(fields, First)])),
    [io:format("  ~-22s ~7b words~n", [Label, K + V]) || {Label, K, V} <- Fields],
    case Agree of
        true -> ok;
        false -> halt(1)
    end.

row(Id) ->
    %% As a state arrives in a process: decoded from the wire.
    State = binary_to_term(term_to_binary(memacct_sim:connection_state(Id))),
    Etf = term_to_binary(State),
    {Id, erts_debug:flat_size(State), memacct:term_size(State), memacct:etf_flat_size(Etf), byte_size(Etf)}.
