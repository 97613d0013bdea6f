%%% @private
%%% @doc The native functions of memacct (`priv/memacct_nif.so', built by
%%% cargo from `native/'). Use {@link memacct}: it picks the scheduler.
%%%
%%% Every sizing comes as a pair: the plain NIF runs on a normal scheduler and
%%% answers `dirty' when the job is too large for it (more than
%%% `element(1, limits())' ETF bytes, or more than `element(2, limits())' work
%%% units of a live term, or a live term holding funs, bitstrings or bignums
%%% beyond 64 bits); the `_dirty' twin runs on a dirty CPU scheduler.
-module(memacct_nif).

-export([live_size/5, live_size_dirty/4, etf_size/3, etf_size_dirty/3,
         atom_words/1, limits/0]).
-export([codec_compress/6, codec_compress_dirty/6,
         codec_decompress/3, codec_decompress_dirty/3,
         codec_decompress_term/3, codec_decompress_term_dirty/3,
         build_term/1, build_limits/0,
         codec_blob_info/1, codec_limits/0,
         dictionary_train/2, dictionary_load/1, dictionary_load_dirty/1,
         dictionary_to_binary/1, dictionary_id/1]).
-export([native_memory/0]).
-export([pool_new/1, pool_restore/2, pool_checkpoint/2,
         pool_put/5, pool_put_dirty/5, pool_update/3, pool_update_dirty/3,
         pool_get/2, pool_get_dirty/2, pool_decode_dirty/2,
         pool_release/2, pool_contains/2, pool_size/1, pool_expire/1,
         pool_set_limits/4, pool_owned_bytes/2, pool_handles/1,
         pool_clear/1, pool_stats/1, pool_limits/0]).
-export([decompose_snapshot/2, decompose_cluster/2, decompose_aggregate/1,
         decompose_trend/2, decompose_series_trend/3, decompose_summary/1]).

-on_load(init/0).
-compile(warn_missing_spec_all).

-define(LIB, "memacct_nif").

-type report() :: flat | full.
-type node_name() :: atom() | binary().
-type etf_opts() :: {none | {node_name(), non_neg_integer()},
                     MaxDepth :: non_neg_integer(),
                     InflateLimit :: non_neg_integer(),
                     Fields :: boolean(),
                     AtomWords :: none | [{binary(), non_neg_integer()}],
                     Safe :: boolean()}.
-type result() :: {ok, non_neg_integer() | map()}
                | {error, {atom(), binary()}}.
-type dict() :: reference().
%% A dictionary resource (`is_reference/1' is true of NIF resources).
-type codec_result() :: {ok, binary()} | {error, {atom(), binary()}}.

-type pool() :: reference().
%% A state pool resource.
-type pool_config() :: {{non_neg_integer(), none | pos_integer(), none | pos_integer(),
                         atom(), reject | evict, none | non_neg_integer(), pos_integer()},
                        {non_neg_integer(),
                         [{atom(), none | pos_integer(), none | pos_integer(),
                           none | non_neg_integer()}],
                         dict() | none, integer(), non_neg_integer()}}.
%% What `memacct_pool:new/1' normalises its options to (see `pool.rs').
-type pool_error() :: {error, {atom(), binary()}}.
-type pool_get_result() :: {ok, term()} | {etf, binary()} | {dirty_blob, binary()}
                         | pool_error().

-type decompose_opts() :: {ResidualTolerance :: float(), Epsilon :: float(),
                           student_t | normal}.
-type trend_opts() :: {MinPoints :: non_neg_integer(), MinSpanHours :: float(),
                       MinRSquared :: float(), MinGrowthPctPerHour :: float()}.
-export_type([decompose_opts/0, trend_opts/0]).

-export_type([report/0, etf_opts/0, result/0, dict/0, codec_result/0,
              pool/0, pool_config/0, pool_error/0, pool_get_result/0]).

%% Loads the shared object from the application's priv directory, or from
%% `../priv' next to this beam when the application is not known to the code
%% server (e.g. `erl -pa nif-erlang/_build/default/lib/memacct/ebin').
%% The NIF reads OTP 25's 64-bit term layouts (header words of bignums,
%% references and binaries) and sizes by OTP 25's rules: on any other VM it
%% is not loaded (a wrong layout read could crash the VM, not just miscount).
-spec init() -> ok | {error, term()}.
init() ->
    case {erlang:system_info(otp_release), erlang:system_info(wordsize)} of
        {"25", 8} ->
            Candidates = [filename:join(Dir, ?LIB) || Dir <- priv_dirs()],
            Path = case [P || P <- Candidates, filelib:is_regular(P ++ ".so")] of
                       [Found | _] -> Found;
                       [] -> hd(Candidates)
                   end,
            erlang:load_nif(Path, 0);
        {Release, WordSize} ->
            {error, {unsupported_vm, lists:flatten(
                                       io_lib:format("memacct's NIF reads the term layouts of OTP 25 on "
                                                     "64-bit VMs; this VM is OTP ~s, ~b-bit",
                                                     [Release, WordSize * 8]))}}
    end.

-spec priv_dirs() -> [file:filename()].
priv_dirs() ->
    Beam = filename:dirname(filename:absname(code:which(?MODULE))),
    FromBeam = [filename:join([Beam, "..", "priv"]),
                filename:join([Beam, "..", "..", "..", "..", "..", "priv"])],
    case code:priv_dir(memacct) of
        {error, bad_name} -> FromBeam;
        Dir -> [Dir | FromBeam]
    end.

%% @doc Size a live term on a normal scheduler, within `Budget' work units.
-spec live_size(term(), report(), node_name(), non_neg_integer(),
                default | non_neg_integer()) -> result() | dirty.
live_size(_Term, _Report, _Node, _Creation, _Budget) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Size a live term on a dirty CPU scheduler.
-spec live_size_dirty(term(), report(), node_name(), non_neg_integer()) -> result().
live_size_dirty(_Term, _Report, _Node, _Creation) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Size ETF input on a normal scheduler (`dirty' when it is too large).
-spec etf_size(binary(), report(), etf_opts()) -> result() | dirty.
etf_size(_Etf, _Report, _Opts) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Size ETF input on a dirty CPU scheduler.
-spec etf_size_dirty(binary(), report(), etf_opts()) -> result().
etf_size_dirty(_Etf, _Report, _Opts) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The VM word of each atom.
-spec atom_words([atom()]) -> [{atom(), non_neg_integer()}].
atom_words(_Atoms) ->
    erlang:nif_error(nif_not_loaded).

%% @doc `{EtfNormalMaxBytes, LiveNormalBudget}'.
-spec limits() -> {pos_integer(), pos_integer()}.
limits() ->
    erlang:nif_error(nif_not_loaded).

%%% ---------------------------------------------------------------------------
%%% Compact-state codec

%% @doc Compress ETF on a normal scheduler (`dirty' when the job is too
%% large); `CheckTerm' false skips checking that `Etf' is one term (only for
%% term_to_binary/1 output).
-spec codec_compress(binary(), dict() | none, integer(), integer(), non_neg_integer(),
                     boolean()) -> codec_result() | dirty.
codec_compress(_Etf, _Dict, _Level, _Format, _InflateLimit, _CheckTerm) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Compress ETF on a dirty CPU scheduler.
-spec codec_compress_dirty(binary(), dict() | none, integer(), integer(), non_neg_integer(),
                           boolean()) -> codec_result().
codec_compress_dirty(_Etf, _Dict, _Level, _Format, _InflateLimit, _CheckTerm) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Decode a blob to ETF on a normal scheduler (`dirty' when too large).
-spec codec_decompress(binary(), dict() | none, non_neg_integer()) -> codec_result() | dirty.
codec_decompress(_Blob, _Dict, _MaxOutput) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Decode a blob to ETF on a dirty CPU scheduler.
-spec codec_decompress_dirty(binary(), dict() | none, non_neg_integer()) -> codec_result().
codec_decompress_dirty(_Blob, _Dict, _MaxOutput) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Decode a blob to a term on a normal scheduler: `{ok, Term}' built by
%% the NIF, `{etf, Etf}' for `binary_to_term/1' (the build ran out of its
%% budget or declined), an error, or `dirty' when too large.
-spec codec_decompress_term(binary(), dict() | none, non_neg_integer()) ->
          {ok, term()} | {etf, binary()} | {error, {atom(), binary()}} | dirty.
codec_decompress_term(_Blob, _Dict, _MaxOutput) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Decode a blob to a term on a dirty CPU scheduler (`{etf, Etf}' only
%% when the builder declines).
-spec codec_decompress_term_dirty(binary(), dict() | none, non_neg_integer()) ->
          {ok, term()} | {etf, binary()} | {error, {atom(), binary()}}.
codec_decompress_term_dirty(_Blob, _Dict, _MaxOutput) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The NIF's term builder alone, for tests and measurements:
%% `{ok, Term}' (`=:=' to `binary_to_term(Etf)'), `{error, {Code, Msg}}'
%% when it declines (input `binary_to_term/1' rejects, compressed ETF,
%% trailing bytes), or `dirty' beyond its normal-scheduler budget.
-spec build_term(binary()) -> {ok, term()} | {error, {atom(), binary()}} | dirty.
build_term(_Etf) ->
    erlang:nif_error(nif_not_loaded).

%% @doc `{BuildBudget, AtomCacheMax}': the builder's normal-scheduler budget
%% in work units and the most atoms it caches per scheduler thread.
-spec build_limits() -> {pos_integer(), pos_integer()}.
build_limits() ->
    erlang:nif_error(nif_not_loaded).

%% @doc A blob's header.
-spec codec_blob_info(binary()) -> {ok, map()} | {error, {atom(), binary()}}.
codec_blob_info(_Blob) ->
    erlang:nif_error(nif_not_loaded).

%% @doc `{CompressNormalMax, DecompressNormalMax}'.
-spec codec_limits() -> {pos_integer(), pos_integer()}.
codec_limits() ->
    erlang:nif_error(nif_not_loaded).

%% @doc Train a dictionary on ETF samples (dirty CPU scheduler).
-spec dictionary_train([binary()], non_neg_integer()) ->
          {ok, dict()} | {error, {atom(), binary()}}.
dictionary_train(_Samples, _MaxBytes) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Load a serialized dictionary on a normal scheduler (`dirty' when large).
-spec dictionary_load(binary()) -> {ok, dict()} | {error, {atom(), binary()}} | dirty.
dictionary_load(_Bytes) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Load a serialized dictionary on a dirty CPU scheduler.
-spec dictionary_load_dirty(binary()) -> {ok, dict()} | {error, {atom(), binary()}}.
dictionary_load_dirty(_Bytes) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The serialized dictionary.
-spec dictionary_to_binary(dict()) -> binary().
dictionary_to_binary(_Dict) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The dictionary's id.
-spec dictionary_id(dict()) -> non_neg_integer().
dictionary_id(_Dict) ->
    erlang:nif_error(nif_not_loaded).

%%% ---------------------------------------------------------------------------
%%% State pool (see native/src/pool.rs)

%% @doc A new pool.
-spec native_memory() -> #{allocated | active | resident | mapped | metadata | retained
                          => non_neg_integer()}.
native_memory() ->
    erlang:nif_error(nif_not_loaded).

-spec pool_new(pool_config()) -> {ok, pool()} | pool_error().
pool_new(_Config) ->
    erlang:nif_error(nif_not_loaded).

%% @doc A pool holding a checkpoint's entries (dirty I/O scheduler).
-spec pool_restore(binary(), pool_config()) -> {ok, pool()} | pool_error().
pool_restore(_Path, _Config) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Write a checkpoint (dirty I/O scheduler).
-spec pool_checkpoint(pool(), binary()) -> {ok, non_neg_integer()} | pool_error().
pool_checkpoint(_Pool, _Path) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Store ETF on a normal scheduler (`dirty' when the payload is large).
-spec pool_put(pool(), atom(), binary(), boolean(), default | none | non_neg_integer()) ->
          {ok, non_neg_integer()} | pool_error() | dirty.
pool_put(_Pool, _Domain, _Etf, _Owned, _Ttl) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Store ETF on a dirty CPU scheduler.
-spec pool_put_dirty(pool(), atom(), binary(), boolean(), default | none | non_neg_integer()) ->
          {ok, non_neg_integer()} | pool_error().
pool_put_dirty(_Pool, _Domain, _Etf, _Owned, _Ttl) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Replace a payload on a normal scheduler (`dirty' when large).
-spec pool_update(pool(), non_neg_integer(), binary()) -> ok | pool_error() | dirty.
pool_update(_Pool, _Handle, _Etf) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Replace a payload on a dirty CPU scheduler.
-spec pool_update_dirty(pool(), non_neg_integer(), binary()) -> ok | pool_error().
pool_update_dirty(_Pool, _Handle, _Etf) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Read an entry on a normal scheduler.
-spec pool_get(pool(), non_neg_integer()) -> pool_get_result() | dirty.
pool_get(_Pool, _Handle) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Read an entry on a dirty CPU scheduler.
-spec pool_get_dirty(pool(), non_neg_integer()) -> pool_get_result().
pool_get_dirty(_Pool, _Handle) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Decode a stored blob on a dirty CPU scheduler.
-spec pool_decode_dirty(pool(), binary()) -> pool_get_result().
pool_decode_dirty(_Pool, _Blob) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Release an entry.
-spec pool_release(pool(), non_neg_integer()) -> ok | pool_error().
pool_release(_Pool, _Handle) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Whether a handle names a live entry.
-spec pool_contains(pool(), non_neg_integer()) -> boolean().
pool_contains(_Pool, _Handle) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Live entries.
-spec pool_set_limits(pool(), pool | atom(), keep | pos_integer(), keep | pos_integer()) ->
          ok | pool_error().
pool_set_limits(_Pool, _Scope, _MaxEntries, _MaxBytes) ->
    erlang:nif_error(nif_not_loaded).

-spec pool_owned_bytes(pool(), [pid()]) -> {non_neg_integer(), non_neg_integer()}.
pool_owned_bytes(_Pool, _Pids) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The handles of the live entries (dirty CPU scheduler, O(entries)).
-spec pool_handles(pool()) -> [pos_integer()].
pool_handles(_Pool) ->
    erlang:nif_error(nif_not_loaded).

-spec pool_size(pool()) -> non_neg_integer().
pool_size(_Pool) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Remove expired entries (dirty CPU scheduler).
-spec pool_expire(pool()) -> non_neg_integer().
pool_expire(_Pool) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Release every entry (dirty CPU scheduler).
-spec pool_clear(pool()) -> non_neg_integer().
pool_clear(_Pool) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The pool's figures.
-spec pool_stats(pool()) -> map().
pool_stats(_Pool) ->
    erlang:nif_error(nif_not_loaded).

%% @doc `{CopyNormalMax, DecodeNormalMax}'.
-spec pool_limits() -> {pos_integer(), pos_integer()}.
pool_limits() ->
    erlang:nif_error(nif_not_loaded).

%%% ---------------------------------------------------------------------------
%%% Memory decomposition (see native/src/decompose.rs); dirty CPU schedulers

%% @doc Parse, decompose and validate a node snapshot (JSON).
-spec decompose_snapshot(binary(), decompose_opts()) -> {ok, map()} | {error, {atom(), binary()}}.
decompose_snapshot(_Json, _Opts) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Parse, decompose and validate a cluster snapshot (JSON).
-spec decompose_cluster(binary(), decompose_opts()) -> {ok, map()} | {error, {atom(), binary()}}.
decompose_cluster(_Json, _Opts) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Statistics over decompositions (their JSON).
-spec decompose_aggregate([binary()]) -> {ok, map()} | {error, {atom(), binary()}}.
decompose_aggregate(_Jsons) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The trend of decompositions (their JSON) of one node.
-spec decompose_trend([binary()], trend_opts()) -> {ok, map()} | {error, {atom(), binary()}}.
decompose_trend(_Jsons, _Opts) ->
    erlang:nif_error(nif_not_loaded).

%% @doc count, min, max, mean, p50, p95, p99 of numbers; `undefined' for none.
-spec decompose_summary([number()]) -> {ok, map()} | undefined.
decompose_summary(_Values) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The fit and leak verdict of one series of `{TimestampMs, Value}'.
-spec decompose_series_trend(binary(), [{integer(), number()}], trend_opts()) -> {ok, map()}.
decompose_series_trend(_Name, _Points, _Opts) ->
    erlang:nif_error(nif_not_loaded).
