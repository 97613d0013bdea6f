%%% @doc The main job, as `make demo' runs it.
%%%
%%% On the local node:
%%% <ol>
%%% <li>starts N simulated MCP connections ({@link memacct_sim}: real
%%%   `gen_server's whose state is built the way erlmcp builds it);</li>
%%% <li>decomposes and validates the node's memory
%%%   ({@link memacct:decompose/1} with `connection_pids') and prints the
%%%   report and every violated rule;</li>
%%% <li>moves every connection's state into a memacct pool in compact form
%%%   (each process calls {@link memacct_pool:acquire/3}, keeps the handle
%%%   and hibernates) and decomposes again, with `pool => Pool' so the
%%%   native bytes are counted;</li>
%%% <li>prints a before/after table, writes both snapshots and renders a
%%%   PNG comparison through the Python module (`scripts/demo_plot.py').</li>
%%% </ol>
%%% {@link measure/2} is steps 1–3 without printing (the test calls it).
-module(memacct_demo).

-export([main/1, main/2, run/1, measure/2, table/2]).

-type opts() :: #{connections => pos_integer(),
                  out => file:filename(),
                  root => file:filename()}.
%% `connections' (default 10000), `out' (output directory, default
%% `out/demo' under `root'), `root' (the repository, for `.venv' and
%% `scripts/'; default the current directory).

-type result() :: #{connections := pos_integer(),
                    before := memacct_decompose:decomposition(),
                    'after' := memacct_decompose:decomposition(),
                    pool_stats := memacct_pool:stats(),
                    etf_bytes := non_neg_integer(),
                    start_ms := non_neg_integer(),
                    compact_ms := non_neg_integer(),
                    settled := {ok, non_neg_integer()} | {timeout, pos_integer()}}.
%% What {@link measure/2} measured: both decompositions, the pool's stats
%% after compaction, the summed `term_to_binary' size of every state
%% (for the compression ratio), the durations of both steps, and how the
%% wait for `mseg_alloc' to release its cached carriers ended
%% ({@link memacct_collect:await_cached_segments/1}) before the second
%% decomposition.

-type progress() :: fun((start | compact, non_neg_integer(), pos_integer()) -> ok).
%% Called as `Progress(Step, Done, Total)' while starting and compacting.

-export_type([opts/0, result/0, progress/0]).

-define(MIB, 1048576).
-define(SETTLE_MS, 30000).

%% @doc Entry point for `scripts/demo.escript', root = current directory.
-spec main([string()]) -> ok.
main(Args) ->
    {ok, Cwd} = file:get_cwd(),
    main(Args, Cwd).

%% @doc Entry point for `scripts/demo.escript': parses flags and runs.
-spec main([string()], file:filename()) -> ok.
main(Args, Root) ->
    case parse(Args, #{root => Root}) of
        help -> io:put_chars(usage());
        {error, Msg} -> io:put_chars(standard_error, [Msg, "\n", usage()]), halt(2);
        Opts -> run(Opts)
    end.

-spec usage() -> string().
usage() ->
    "usage: make demo [DEMO_ARGS='--connections N --out DIR']\n"
    "  --connections N   simulated MCP connections to start (default 10000)\n"
    "  --out DIR         where the snapshots and the PNG go (default out/demo)\n"
    "  --help            this text\n".

-spec parse([string()], opts()) -> opts() | help | {error, string()}.
parse([], Opts) -> Opts;
parse(["--help" | _], _) -> help;
parse(["-h" | _], _) -> help;
parse(["--connections", N | Rest], Opts) ->
    case string:to_integer(N) of
        {I, ""} when I > 0 -> parse(Rest, Opts#{connections => I});
        _ -> {error, "--connections needs a positive integer"}
    end;
parse(["--out", Dir | Rest], Opts) ->
    parse(Rest, Opts#{out => Dir});
parse([Other | _], _) -> {error, "unknown or incomplete argument: " ++ Other}.

%% @doc Runs the whole demo and prints it.
-spec run(opts()) -> ok.
run(Opts) ->
    N = maps:get(connections, Opts, 10000),
    Root = maps:get(root, Opts, "."),
    Out = filename:absname(maps:get(out, Opts, filename:join(Root, "out/demo"))),
    io:format("memacct demo: ~b simulated MCP connections on ~s, OTP ~s, ~b schedulers~n~n",
              [N, node(), erlang:system_info(otp_release), erlang:system_info(schedulers_online)]),
    R = measure(N, fun progress/3),
    #{before := B, 'after' := A, settled := Settled} = R,
    settled(Settled),
    io:format("~n== 1. BEFORE: every state on its process heap ==~n~n"),
    print_decomposition(B),
    io:format("~n== 2. AFTER: every state compacted into a memacct pool, processes hibernated ==~n~n"),
    print_decomposition(A),
    io:format("~n== 3. BEFORE / AFTER ==~n~n~s~n", [table(R, N)]),
    ok = filelib:ensure_dir(filename:join(Out, "x")),
    BeforeJson = filename:join(Out, "before.json"),
    AfterJson = filename:join(Out, "after.json"),
    ok = memacct:write_snapshot(BeforeJson, maps:get(snapshot, B)),
    ok = memacct:write_snapshot(AfterJson, maps:get(snapshot, A)),
    Png = filename:join(Out, "before_after.png"),
    PngNote = plot(Root, BeforeJson, AfterJson, Png),
    io:format("files:~n  ~s~n  ~s~n  ~s~n", [BeforeJson, AfterJson, PngNote]),
    io:format("  (Python: memacct.load_snapshot(\"~s\").plot(\"node.png\"))~n", [AfterJson]),
    ok.

%% @doc Steps 1–3: starts `N' connections, decomposes, compacts every state
%% into a new pool, decomposes again, stops the connections. `Progress' is
%% called as `Progress(Step, Done, Total)' while starting and compacting.
-spec measure(pos_integer(), progress()) -> result().
measure(N, Progress) ->
    T0 = erlang:monotonic_time(millisecond),
    Pids = start(N, Progress),
    T1 = erlang:monotonic_time(millisecond),
    try
        %% One state at a time (never all of them in this process at once).
        EtfBytes = lists:foldl(fun(P, Acc) -> Acc + etf_size(gen_server:call(P, state)) end, 0, Pids),
        true = erlang:garbage_collect(),
        {ok, Before} = memacct:decompose(#{connection_pids => Pids}),
        {ok, Pool} = memacct_pool:new(),
        ok = compact(Pids, Pool, Progress),
        T2 = erlang:monotonic_time(millisecond),
        Settled = memacct_collect:await_cached_segments(?SETTLE_MS),
        {ok, After} = memacct:decompose(#{connection_pids => Pids, pool => Pool}),
        #{connections => N, before => Before, 'after' => After,
          pool_stats => memacct_pool:stats(Pool), etf_bytes => EtfBytes,
          start_ms => T1 - T0, compact_ms => T2 - T1, settled => Settled}
    after
        memacct_sim:stop_connections(Pids)
    end.

-spec etf_size(term()) -> non_neg_integer().
etf_size(State) ->
    byte_size(term_to_binary(State)).

-spec start(pos_integer(), progress()) -> [pid()].
start(N, Progress) ->
    Step = max(1, N div 20),
    lists:reverse(
      lists:foldl(fun(I, Acc) ->
                          Pid = memacct_sim:start_connection(I),
                          _ = (I rem Step =:= 0 orelse I =:= N) andalso Progress(start, I, N),
                          [Pid | Acc]
                  end, [], lists:seq(1, N))).

-spec compact([pid()], memacct_pool:pool(), progress()) -> ok.
compact(Pids, Pool, Progress) ->
    N = length(Pids),
    Step = max(1, N div 20),
    lists:foldl(fun(Pid, I) ->
                        {ok, _Handle} = gen_server:call(Pid, {compact, Pool}),
                        _ = (I rem Step =:= 0 orelse I =:= N) andalso Progress(compact, I, N),
                        I + 1
                end, 1, Pids),
    ok.

-spec settled({ok, non_neg_integer()} | {timeout, pos_integer()}) -> ok.
settled({ok, Ms}) ->
    io:format("  waited ~.1f s for mseg_alloc to return the freed carriers it caches to the OS~n",
              [Ms / 1000]);
settled({timeout, N}) ->
    io:format("  ~b freed carriers still cached by mseg_alloc after ~b s (resident: in the residual)~n",
              [N, ?SETTLE_MS div 1000]).

-spec progress(start | compact, non_neg_integer(), pos_integer()) -> ok.
progress(Step, Done, Total) ->
    Label = case Step of
                start -> "starting connections ";
                compact -> "compacting states    "
            end,
    Width = 30,
    Filled = Done * Width div Total,
    Bar = [Label, $[, lists:duplicate(Filled, $#), lists:duplicate(Width - Filled, $.), $]],
    case io:columns() of
        {ok, _} ->                              % a terminal: redraw one line
            io:format("\r  ~s ~b/~b", [Bar, Done, Total]),
            _ = Done =:= Total andalso io:format("~n"),
            ok;
        {error, _} ->                           % a pipe or a file: a line per quarter
            Quarter = fun(D) -> D * 4 div Total end,
            Every = max(1, Total div 20),
            case Done =:= Total orelse Quarter(Done) =/= Quarter(max(0, Done - Every)) of
                true -> io:format("  ~s ~b/~b~n", [Bar, Done, Total]);
                false -> ok
            end
    end.

-spec print_decomposition(memacct_decompose:decomposition()) -> ok.
print_decomposition(#{decomposition := D, violations := Vs, valid := Valid}) ->
    #{per_connection := C, per_node := Node} = D,
    #{state := S} = C,
    Kib = fun(B) -> B / 1024 end,
    io:format("  per connection (mean):~n"),
    io:format("    process memory    ~9.2f KiB~n", [Kib(maps:get(process_bytes, C))]),
    io:format("      of which state  ~9.2f KiB  (estimate, 95% CI ~.2f .. ~.2f KiB, n = ~b of ~b)~n",
              [Kib(maps:get(mean, S)), Kib(maps:get(ci_low, S)), Kib(maps:get(ci_high, S)),
               maps:get(sample_size, S), maps:get(population, S)]),
    io:format("      of which heap   ~9.2f KiB  (process - state)~n", [Kib(maps:get(heap_bytes, C))]),
    io:format("    off-heap share    ~9.2f KiB~n", [Kib(maps:get(off_heap_share_bytes, C))]),
    io:format("    native (pool)     ~9.2f KiB~n", [Kib(maps:get(native_bytes, C))]),
    io:format("    total             ~9.2f KiB  (process + off-heap + native)~n",
              [Kib(maps:get(total_bytes, C))]),
    Mib = fun(B) -> B / ?MIB end,
    io:format("  node:~n"),
    io:format("    connections       ~9.2f MiB~n", [Mib(maps:get(connections_bytes, Node))]),
    io:format("    node overhead     ~9.2f MiB  (accounted - connections)~n",
              [Mib(maps:get(base_overhead_bytes, Node))]),
    io:format("    residual          ~9.2f MiB  (~.2f% of RSS: RSS - accounted)~n",
              [Mib(maps:get(residual_bytes, Node)), float(maps:get(residual_pct_of_rss, Node))]),
    io:format("      allocated, maybe unwritten ~.2f MiB  (heap reserve + carrier free space:~n"
              "      not resident until written, so the residual may be that much lower)~n",
              [Mib(maps:get(unwritten_bound_bytes, Node))]),
    io:format("    OS RSS            ~9.2f MiB~n", [Mib(maps:get(rss_bytes, Node))]),
    case Valid of
        true ->
            io:format("  validation: all rules hold~n");
        false ->
            io:format("  validation: ~b rule(s) VIOLATED (shown, not hidden):~n", [length(Vs)]),
            [io:format("    - ~s: ~s~n", [R, M]) || #{rule := R, message := M} <- Vs],
            io:format("    note: a positive residual is RSS no BEAM, memacct or OS-mapping figure~n"
                      "    explains (thread stacks, libc heaps, freed carriers still cached); on a~n"
                      "    small node it is a large share.~n")
    end,
    ok.

%% @doc The before/after table of a {@link measure/2} result, as text.
-spec table(result(), pos_integer()) -> iolist().
table(R, N) ->
    #{before := #{decomposition := DB}, 'after' := #{decomposition := DA},
      pool_stats := PS, etf_bytes := Etf} = R,
    CB = maps:get(per_connection, DB),
    CA = maps:get(per_connection, DA),
    NB = maps:get(per_node, DB),
    NA = maps:get(per_node, DA),
    Row = fun(Label, Fmt, B, A) ->
                  io_lib:format("  ~-26s ~14s ~14s ~13s~n", [Label, Fmt(B), Fmt(A), ratio(B, A)])
          end,
    Bytes = fun(X) -> io_lib:format("~.1f B", [float(X)]) end,
    MiB = fun(X) -> io_lib:format("~.2f MiB", [X / ?MIB]) end,
    StateB = maps:get(mean, maps:get(state, CB)),
    StateA = maps:get(mean, maps:get(state, CA)),
    Stored = maps:get(bytes_stored, PS),
    [io_lib:format("  ~-26s ~14s ~14s ~13s~n", ["per connection", "before", "after", "before/after"]),
     Row("process memory", Bytes, maps:get(process_bytes, CB), maps:get(process_bytes, CA)),
     Row("  of which state", Bytes, StateB, StateA),
     Row("native (pool entries)", Bytes, maps:get(native_bytes, CB), maps:get(native_bytes, CA)),
     Row("total", Bytes, maps:get(total_bytes, CB), maps:get(total_bytes, CA)),
     io_lib:format("  ~-26s~n", ["node"]),
     Row("connections", MiB, maps:get(connections_bytes, NB), maps:get(connections_bytes, NA)),
     Row("OS RSS", MiB, maps:get(rss_bytes, NB), maps:get(rss_bytes, NA)),
     Row("residual", MiB, maps:get(residual_bytes, NB), maps:get(residual_bytes, NA)),
     io_lib:format("~n  compression: state ~.1f B on heap -> ~.1f B in the pool (ETF ~.1f B): ~.2fx vs heap, ~.2fx vs ETF~n",
                   [float(StateB), Stored / N, Etf / N, StateB * N / max(1, Stored), Etf / max(1, Stored)]),
     io_lib:format("  pool: ~b entries, ~b owners, bytes_stored ~.2f MiB, bytes_allocated ~.2f MiB, policy ~s~n",
                   [maps:get(in_use, PS), maps:get(owners, PS), Stored / ?MIB,
                    maps:get(bytes_allocated, PS) / ?MIB, maps:get(policy, PS)]),
     io_lib:format("  per-connection total: ~.2fx smaller; RSS may shrink less: freed heap goes back to the~n"
                   "  allocators' carriers first, and the OS gets it back only when a carrier empties.~n",
                   [maps:get(total_bytes, CB) / max(1.0, maps:get(total_bytes, CA))])].

-spec ratio(number(), number()) -> iolist().
ratio(B, A) when B > 0, A > 0 -> io_lib:format("~.2fx", [B / A]);
ratio(_, _) -> "-".

-spec plot(file:filename(), file:filename(), file:filename(), file:filename()) -> iolist().
plot(Root, BeforeJson, AfterJson, Png) ->
    Py = filename:join(Root, ".venv/bin/python"),
    Script = filename:join(Root, "scripts/demo_plot.py"),
    case filelib:is_regular(Py) andalso filelib:is_regular(Script) of
        false ->
            io_lib:format("(no PNG: ~s or ~s missing; run `make build-py')", [Py, Script]);
        true ->
            Port = open_port({spawn_executable, Py},
                             [{args, [Script, BeforeJson, AfterJson, Png]},
                              exit_status, stderr_to_stdout, binary]),
            case collect(Port, []) of
                {0, _} -> Png;
                {Status, Output} ->
                    io_lib:format("(no PNG: the Python plot exited ~b: ~s)", [Status, Output])
            end
    end.

-spec collect(port(), [binary()]) -> {integer(), binary()}.
collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [D | Acc]);
        {Port, {exit_status, S}} -> {S, iolist_to_binary(lists:reverse(Acc))}
    end.
