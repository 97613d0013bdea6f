%%% @doc Shared helpers of the Common Test suites: where the cross-language
%%% vectors are, hex decoding, and the per-run random seed.
-module(memacct_test_vectors).

-export([dir/0, unhex/1, seed/1, random_count/0, over_random_terms/2, is_error/2]).

%% @doc The `tests/vectors' directory: `MEMACCT_VECTORS', else the one two
%% levels up from this test directory (nif-erlang/test), or of the nearest
%% ancestor that has it (rebar3 may compile a copy under _build).
-spec dir() -> file:filename().
dir() ->
    case os:getenv("MEMACCT_VECTORS") of
        false -> find_up(filename:dirname(filename:absname(?FILE)));
        Dir -> Dir
    end.

find_up(Dir) ->
    Candidate = filename:join([Dir, "..", "..", "tests", "vectors"]),
    Here = filename:join([Dir, "tests", "vectors"]),
    case {filelib:is_dir(Candidate), filelib:is_dir(Here), filename:dirname(Dir)} of
        {true, _, _} -> Candidate;
        {_, true, _} -> Here;
        {_, _, Dir} -> ct:fail("tests/vectors not found; set MEMACCT_VECTORS");
        {_, _, Up} -> find_up(Up)
    end.

%% @doc Bytes of an upper- or lower-case hex string.
-spec unhex(string()) -> binary().
unhex(Hex) ->
    binary:decode_hex(list_to_binary(Hex)).

%% @doc This run's random seed: `MEMACCT_SEED', else fresh; logged with how
%% to replay it.
-spec seed(string()) -> non_neg_integer().
seed(What) ->
    Seed = case os:getenv("MEMACCT_SEED") of
               false -> erlang:system_time(microsecond) rem 1000000007;
               S -> list_to_integer(S)
           end,
    ct:pal("~s random seed: ~b (replay with MEMACCT_SEED=~b)", [What, Seed, Seed]),
    Seed.

%% @doc How many fresh random terms a suite checks: `MEMACCT_RANDOM_TERMS',
%% else 100,000.
-spec random_count() -> pos_integer().
random_count() ->
    case os:getenv("MEMACCT_RANDOM_TERMS") of
        false -> 100000;
        N -> list_to_integer(N)
    end.

%% @doc Runs `Check(Terms, Bad) -> Bad' over `random_count()' fresh random
%% terms from `Seed', in batches of 1,000 (batch I from seed `Seed + I'):
%% `{Microseconds, TermsChecked, Bad}'.
-spec over_random_terms(integer(), fun(([term()], list()) -> list())) ->
          {non_neg_integer(), non_neg_integer(), list()}.
over_random_terms(Seed, Check) ->
    N = random_count(),
    Batch = 1000,
    {Us, {Checked, Bad}} =
        timer:tc(fun() ->
                         lists:foldl(
                           fun(I, {C, B}) ->
                                   Ts = memacct_term_gen:terms(Batch, Seed + I),
                                   {C + length(Ts), Check(Ts, B)}
                           end, {0, []}, lists:seq(0, (N + Batch - 1) div Batch - 1))
                 end),
    {Us, Checked, Bad}.

%% @doc Whether `Result' is the error `Code' with a message.
-spec is_error(atom(), term()) -> boolean().
is_error(Code, {error, {Code, Msg}}) -> is_binary(Msg);
is_error(_, _) -> false.
