%%% @doc Exact memory accounting of Erlang terms.
%%%
%%% `memacct' tells how many heap words a term takes — the number
%%% `erts_debug:flat_size/1' reports — either for a live term (walked in
%%% place by a NIF) or for a term still in the External Term Format
%%% (`term_to_binary/1' output, sized <em>without</em> decoding it), with a
%%% breakdown by kind of heap object, the off-heap bytes of refc binaries, and
%%% per-field sizes of records and maps.
%%%
%%% Every algorithm lives in the Rust crate `memacct-core'; this module only
%%% chooses the scheduler. Small jobs run on the calling normal scheduler
%%% (well under a millisecond, see {@link scheduling_limits/0}); larger ones move
%%% to a dirty CPU scheduler, so the BEAM's schedulers are never held.
%%%
%%% == Quick start ==
%%% ```
%%% 1> memacct:flat_size({ok, <<"abc">>}).
%%% 9
%%% 2> memacct:etf_flat_size(term_to_binary({ok, <<"abc">>})).
%%% 6
%%% 3> memacct:etf_flat_size(term_to_binary(#{a => 1})).
%%% 6
%%% 4> maps:with([words, bytes, refc_binaries, off_heap_bytes],
%%%              memacct:term_size([1.0, <<0:800>>])).
%%% #{bytes => 96,off_heap_bytes => 100,refc_binaries => 1,
%%%   words => 12}
%%% '''
%%% The shell builds the binary `<<"abc">>' as a refc binary (a 6-word
%%% handle; `erts_debug:flat_size/1' says 9 too), where compiled code and
%%% `binary_to_term/1' make a 3-word heap binary: the term the ETF of line 2
%%% decodes to takes 6 words.
%%%
%%% == What a word count means ==
%%% `Words' is exactly what `erts_debug:flat_size/1' returns on Erlang/OTP 25,
%%% 64-bit: shared subterms are counted once per reference (the size the term
%%% would take after being copied into another process), refc binaries count
%%% their 6-word handle and report their payload in `off_heap_bytes', and
%%% literals are counted like any other term.
%%%
%%% == Compact state ==
%%% {@link compress/2} turns a term into a lossless blob; with a dictionary
%%% trained on typical connection states (see {@link train_dictionary/2}) a
%%% small state takes less than half of `term_to_binary(T, [compressed])'
%%% (without one, about the same). {@link decompress/2} gives back a term
%%% `=:=' to the original. The byte-level twins {@link compress_etf/2} and
%%% {@link decompress_etf/2} keep ETF byte for byte. Blobs are versioned and
%%% checksummed: corrupt input is an error, never a wrong term.
%%%
%%% == Memory decomposition ==
%%% {@link decompose/1} measures the node (connection processes, sampled
%%% states, refc binaries, pools, `erlang:memory/0', allocators, the OS
%%% resident set) and splits the RSS into per-connection figures, the node's
%%% base overhead and a signed residual, with no double counting; every
%%% broken rule is reported. {@link decompose_cluster/2} does it over
%%% distribution. See {@link memacct_decompose} and {@link memacct_collect}.
%%%
%%% == Errors ==
%%% The ETF functions return `{error, {Code, Message}}' for input that
%%% `binary_to_term/1' would reject or that memacct cannot size exactly; `Code'
%%% is one of {@type error_code()} (the same codes as the Python and C
%%% surfaces) and `Message' a human-readable binary. A non-binary argument
%%% (or an option of the wrong type) raises `badarg', explained: the shell,
%%% like `erl_error:format_exception/3', prints the call and the reason
%%% under the argument at fault.
-module(memacct).

-export([flat_size/1, term_size/1,
         etf_flat_size/1, etf_flat_size/2,
         etf_term_size/1, etf_term_size/2,
         atom_words/1, scheduling_limits/0]).
-export([compress/1, compress/2, compress_etf/1, compress_etf/2,
         decompress/1, decompress/2, decompress_etf/1, decompress_etf/2,
         blob_info/1,
         train_dictionary/1, train_dictionary/2, load_dictionary/1,
         dictionary_to_binary/1, dictionary_id/1,
         codec_scheduling_limits/0, format_error/2]).
-export([raise_badarg/4, check_option_keys/6]).
-export([native_memory/0]).
-export([decompose/1, decompose_cluster/2, snapshot/1, write_snapshot/2,
         format_report/1]).

-compile(warn_missing_spec_all).

-type words() :: non_neg_integer().
%% Heap words (8 bytes each on a 64-bit VM).

-type kind() :: tuple | list | map | heap_binary | refc_binary | sub_binary
              | bignum | float | 'fun' | external_pid | external_port
              | external_ref | local_ref.
%% The kinds of heap object a term's words are made of.

-type field() :: {Label :: binary(), KeyWords :: words(), ValueWords :: words()}.
%% One field of a root tuple (label `<<"1">>', `<<"2">>', ... as `element/2'
%% counts) or a root map (label: the key in Erlang syntax, e.g. `<<"id">>',
%% `<<"<<\"key\">>">>', or its kind for large keys).

-type size_report() :: #{words := words(),
                         bytes := non_neg_integer(),
                         off_heap_bytes := non_neg_integer(),
                         refc_binaries := non_neg_integer(),
                         by_kind := #{kind() => words()},
                         nodes := non_neg_integer(),
                         max_depth := non_neg_integer(),
                         fields := [field()]}.
%% `words' as `erts_debug:flat_size/1'; `bytes' = `words' × 8;
%% `off_heap_bytes' the payload bytes of the refc binaries the term
%% references (from ETF: those above 64 bytes; live: every refc binary) and `refc_binaries' how many there are; `by_kind' the
%% words per kind (all kinds present, zeros included, summing to `words');
%% `nodes' the number of terms (each list element counts, the list's cells
%% and its `[]' count as one); `max_depth' the deepest nesting (`a' is 1,
%% `{a}' is 2); `fields' per-field sizes of a root tuple or map (else `[]').

-type error_code() :: truncated | bad_version | empty | unknown_tag
                    | length_too_large | too_deep | inflate_limit
                    | bad_compression | atom_cache_ref | invalid_value
                    | duplicate_map_key | needs_vm | unsupported
                    | bad_blob | blob_version | dictionary_required
                    | dictionary_mismatch | checksum_mismatch | codec
                    | bad_dictionary | invalid_option | pool_exhausted | stale_handle | bad_checkpoint | io | bad_snapshot
                    | rss_unavailable | atom().
%% `memacct_core::Error::code()' as an atom. The codec adds `bad_blob' (not a
%% blob, or a malformed one), `blob_version' (written by a newer format),
%% `dictionary_required' / `dictionary_mismatch' (the blob names a dictionary
%% that was not given / is not the one given), `checksum_mismatch' (corrupt
%% data), `codec' (the entropy stage failed), `bad_dictionary' (a corrupt
%% serialized dictionary, or no samples to train on) and `invalid_option' (an
%% option of the right type but out of range, e.g. `level => 23').

-type error() :: {error, {error_code(), Message :: binary()}}.

-type node_name() :: atom() | binary().

-type options() :: #{local_node => {node_name(), Creation :: non_neg_integer()} | none,
                     max_depth => pos_integer(),
                     inflate_limit => non_neg_integer(),
                     fields => boolean(),
                     atom_words => #{node_name() => non_neg_integer()}
                                 | [{node_name(), non_neg_integer()}],
                     safe => boolean()}.
%% Options of the ETF functions:
%% <dl>
%% <dt>`local_node'</dt><dd>The node `binary_to_term/1' would run on: its
%%   pids, ports and references decode to local (smaller) objects. Default
%%   this node: `{node(), erlang:system_info(creation)}'. `none' sizes them
%%   all as external.</dd>
%% <dt>`max_depth'</dt><dd>Deepest nesting accepted before `too_deep'.
%%   Default 100000.</dd>
%% <dt>`inflate_limit'</dt><dd>Most bytes a compressed term may inflate to
%%   before `inflate_limit'. Default 1 GiB.</dd>
%% <dt>`fields'</dt><dd>Whether {@link etf_term_size/2} reports per-field
%%   sizes. Default `true'.</dd>
%% <dt>`atom_words'</dt><dd>Size as on another VM, from its atom table (see
%%   {@link atom_words/1}): atoms in keys of maps with more than 32 keys are
%%   looked up there only, and keys whose hash mixes VM-private values
%%   (pids, ports, external references, funs) give `needs_vm' — exactly
%%   what the Python and C surfaces do. Without this option the running VM
%%   answers every such question.</dd>
%% <dt>`safe'</dt><dd>Like `binary_to_term(Etf, [safe])': never create an
%%   atom. Sizing looks atoms up only in keys of maps with more than 32 keys
%%   (their hash needs the atom's index); with `safe => true' an atom there
%%   that does not exist on this node is `needs_vm' instead of being
%%   created. Use it for ETF from outside the node: the atom table is never
%%   garbage collected. Default `false'.</dd>
%% </dl>

-opaque dictionary() :: reference().
%% A trained compression dictionary (a NIF resource). Blobs made with one
%% carry its id and decode only with it; keep it with {@link
%% dictionary_to_binary/1} and {@link load_dictionary/1}.

-type blob() :: binary().
%% A compact-state blob: magic `MAcs', format version, dictionary id, CRC-32
%% and length of the ETF it decodes to, then the compressed payload.

-type compress_options() :: #{dictionary => dictionary(),
                              level => 1..22,
                              format => 1 | 2,
                              inflate_limit => non_neg_integer()}.
%% <dl>
%% <dt>`dictionary'</dt><dd>A trained dictionary (default: none).</dd>
%% <dt>`level'</dt><dd>zstd level, 1 (fastest) to 22 (smallest); default 3.
%%   An integer outside 1..22 is `invalid_option'.</dd>
%% <dt>`format'</dt><dd>Blob format written: 2 (default) or 1, for readers
%%   built before format 2 (slower and no smaller); decompressing reads
%%   both. Another integer is `invalid_option'.</dd>
%% <dt>`inflate_limit'</dt><dd>{@link compress_etf/2} only: most bytes a
%%   `term_to_binary(T, [compressed])' input may inflate to; default 1 GiB.</dd>
%% </dl>

-type decompress_options() :: #{dictionary => dictionary(),
                                max_output => non_neg_integer(),
                                safe => boolean()}.
%% <dl>
%% <dt>`dictionary'</dt><dd>The dictionary the blob was made with.</dd>
%% <dt>`max_output'</dt><dd>Most bytes the decoded ETF may take before
%%   `inflate_limit'; default 256 MiB.</dd>
%% <dt>`safe'</dt><dd>({@link decompress/2} only) Build the term with
%%   `binary_to_term(Etf, [safe])': a term holding an atom that does not
%%   exist is `{error, {invalid_value, _}}' instead of creating it. Slower
%%   than the NIF's builder. Default `false'.</dd>
%% </dl>

-type blob_info() :: #{version := pos_integer(),
                       dictionary_id := non_neg_integer(),
                       etf_bytes := non_neg_integer(),
                       input_was_compressed := boolean(),
                       blob_bytes := non_neg_integer()}.
%% A blob's header: format version, dictionary id (0: none), length of the
%% ETF it decodes to, whether the input was `term_to_binary(T, [compressed])'
%% output, and the blob's own length.

-type train_options() :: #{max_bytes => pos_integer()}.
%% `max_bytes': the dictionary's size, 256 B to 16 MiB; default 32 KiB.

-export_type([words/0, kind/0, field/0, size_report/0, error_code/0, error/0,
              options/0, dictionary/0, blob/0, compress_options/0,
              decompress_options/0, blob_info/0, train_options/0]).

-define(DEFAULT_MAX_DEPTH, 100000).
-define(DEFAULT_INFLATE_LIMIT, (1 bsl 30)).
-define(U32_MAX, 16#FFFFFFFF).
-define(U64_MAX, 16#FFFFFFFFFFFFFFFF).
-define(ATOM_CHUNK, 4096).
-define(DEFAULT_LEVEL, 3).
-define(DEFAULT_FORMAT, 2).
-define(DEFAULT_MAX_OUTPUT, (256 bsl 20)).
-define(DEFAULT_DICTIONARY_BYTES, (32 * 1024)).

%% The public function being run, with its arguments: what an explained
%% badarg names (see raise_badarg/4).
-define(CALL(Args), {?FUNCTION_NAME, Args}).
-type call() :: {atom(), [term()]}.

%%% ---------------------------------------------------------------------------
%%% Live terms

%% @doc Heap words of a live term: `erts_debug:flat_size(Term)', computed by
%% a NIF that walks the term in place (no copy, no `term_to_binary/1' except
%% for the few leaves noted below).
%%
%% ```
%% 1> memacct:flat_size({a, b}).
%% 3
%% 2> memacct:flat_size("abc").
%% 6
%% 3> memacct:flat_size(1 bsl 59).
%% 2
%% 4> memacct:flat_size(maps:from_list([{I, I} || I <- lists:seq(1, 33)])).
%% 127
%% 5> memacct:flat_size(binary:copy(<<1>>, 65)).
%% 6
%% '''
%%
%% The result equals `erts_debug:flat_size(Term)' for every term built by
%% `binary_to_term/1' (and for most others). Binaries and bitstrings are read
%% from their header words as the VM holds them: refc binaries of any size
%% (appending builds small ones; so does the shell), slices at a bit offset
%% and bitstrings are counted as `erts_debug:flat_size/1' counts them, and
%% nothing is copied to learn a size. What the NIF API cannot see:
%% <ul>
%% <li>maps with more than 32 keys that shrank to 32 or fewer keys (the VM
%%   may keep them as HAMTs; they are sized as flat maps);</li>
%% <li>funs, external references and other nodes' pids and ports are sized
%%   from their `term_to_binary/1' encoding (bignums and local references
%%   are read from their header word).</li>
%% </ul>
%% Literals are not an issue: `flat_size' counts them like any other term,
%% and so does memacct.
%%
%% Scheduling: up to `element(2, scheduling_limits())' work units (about one
%% per term) on the calling scheduler; larger terms, and terms holding funs
%% or external references, are sized on a dirty CPU scheduler (which stops
%% if the caller exits meanwhile).
%% Raises `{memacct, {Code, Message}}' in the rare case the core cannot size
%% a term exactly (`unsupported').
-spec flat_size(term()) -> words().
flat_size(Term) ->
    live(Term, flat).

%% @doc The full size report of a live term (see {@type size_report()}).
%%
%% ```
%% 1> memacct:term_size(binary_to_term(term_to_binary(#{id => 7, name => <<"x">>}))).
%% #{by_kind =>
%%       #{bignum => 0,external_pid => 0,external_port => 0,
%%         external_ref => 0,float => 0,'fun' => 0,heap_binary => 3,
%%         list => 0,local_ref => 0,map => 8,refc_binary => 0,
%%         sub_binary => 0,tuple => 0},
%%   bytes => 88,
%%   fields => [{<<"id">>,0,0},{<<"name">>,0,3}],
%%   max_depth => 2,nodes => 5,off_heap_bytes => 0,
%%   refc_binaries => 0,words => 11}
%% 2> maps:get(fields, memacct:term_size({state, [1,2], <<"abc">>})).
%% [{<<"1">>,0,0},{<<"2">>,0,4},{<<"3">>,0,6}]
%% '''
%% Line 1 goes through `binary_to_term/1' to size the map as compiled code
%% builds it (`<<"x">>' a 3-word heap binary); typed as is in the shell,
%% where `<<"x">>' is a 6-word refc binary, the same map is `words => 14',
%% `refc_binary => 6'. Line 2 sizes the shell's own term: its `<<"abc">>'
%% is a refc binary (6 words; its 3 bytes count in `off_heap_bytes').
%%
%% `words' equals {@link flat_size/1}; the same caveats apply.
-spec term_size(term()) -> size_report().
term_size(Term) ->
    live(Term, full).

-spec live(term(), memacct_nif:report()) -> words() | size_report().
live(Term, Report) ->
    Node = node(),
    Creation = erlang:system_info(creation),
    case memacct_nif:live_size(Term, Report, Node, Creation, default) of
        dirty -> unwrap_live(memacct_nif:live_size_dirty(Term, Report, Node, Creation));
        Result -> unwrap_live(Result)
    end.

-spec unwrap_live(memacct_nif:result()) -> words() | size_report().
unwrap_live({ok, Size}) -> Size;
unwrap_live({error, Reason}) -> erlang:error({memacct, Reason}).

%%% ---------------------------------------------------------------------------
%%% ETF input

%% @doc Heap words of the term encoded in `Etf', without decoding it:
%% `erts_debug:flat_size(binary_to_term(Etf))' on this node.
%%
%% ```
%% 1> memacct:etf_flat_size(term_to_binary({ok, <<"abc">>})).
%% 6
%% 2> memacct:etf_flat_size(term_to_binary(lists:seq(1, 1000), [compressed])).
%% 2000
%% 3> memacct:etf_flat_size(<<131, 108, 255, 255, 255, 255>>).
%% {error,{length_too_large,<<"declared length 4294967295 at offset 6 exceeds the 0 byte(s) left">>}}
%% 4> memacct:etf_flat_size(<<>>).
%% {error,{empty,<<"empty input: ETF needs at least a version byte and a tag">>}}
%% '''
%% Maps with more than 32 keys, whose layout follows the VM's internal hash
%% of each key, are sized exactly too: the running VM answers every hash
%% question. A job of more than `element(1, scheduling_limits())' work units
%% (about one per byte, plus the bytes of map keys checked and hashed) moves
%% to a dirty CPU scheduler.
%%
%% <b>Atoms.</b> Sizing creates the atoms named in the keys of maps of more
%% than 32 keys that do not exist yet, as `binary_to_term/1' without
%% `[safe]' would (their hash needs a real atom). Atoms are never garbage
%% collected: ETF from an untrusted source can grow the atom table towards
%% its limit (which stops the VM). Size untrusted ETF only after
%% `binary_to_term(Etf, [safe])' succeeded, or pass `atom_words' (then no
%% atom is created: an unknown one is `{error, {needs_vm, _}}').
%%
%% <b>Alias references.</b> A local reference whose encoding carries the
%% alias (pid-reference) marker is counted as the 4-word alias the ETF
%% describes. `binary_to_term/1' builds it as a 4-word alias only while that
%% alias is active on this VM; for an alias written by another VM, or one
%% that was deactivated (`unalias/1', its process gone), it builds a 3-word
%% ordinary reference, so `etf_flat_size' is 1 word more per such reference
%% than `erts_debug:flat_size(binary_to_term(Etf))'. The NIF API cannot tell
%% whether an alias is active.
%%
%% <b>Known differences from `binary_to_term/1'</b> (OTP 25) in what is
%% accepted:
%% <ul>
%% <li>`FLOAT_EXT' (tag 99, the 31-byte string form) follows the VM's
%%   grammar (`[+-]digits[.,]digits', an optional exponent, a NUL), except
%%   that a string without a NUL in its 31 bytes is refused, where the VM
%%   reads on into the next term's bytes;</li>
%% <li>`NEW_FUN_EXT' (tag 112) whose `Size' field is not the length of the
%%   encoded fun is refused (`invalid_value'); OTP 25 does not check that
%%   field and may decode it;</li>
%% <li>tags 73 and 75 (`ATOM_INTERNAL_REF2', `ATOM_INTERNAL_REF3': an atom
%%   by its index in this VM's atom table, for the VM's internal use) are
%%   refused (`unknown_tag'); `binary_to_term/1' accepts them;</li>
%% <li>`EXPORT_EXT' (tag 113) with an arity above 255 is refused
%%   (`invalid_value'); `binary_to_term/1' accepts any non-negative small
%%   integer, making `fun m:f/256', which no function can be;</li>
%% <li>`NEWER_REFERENCE_EXT' of length 0 (no id words) is refused
%%   (`invalid_value'); `binary_to_term/1' accepts it for a node other than
%%   its own.</li>
%% </ul>
%% The same holds for {@link etf_term_size/2} and for the ETF checked by
%% {@link compress_etf/2}.
-spec etf_flat_size(binary()) -> words() | error().
etf_flat_size(Etf) ->
    etf(Etf, #{}, flat, ?CALL([Etf])).

%% @doc {@link etf_flat_size/1} with {@type options()}.
%%
%% ```
%% 1> Pid = term_to_binary(self()).
%% 2> memacct:etf_flat_size(Pid).
%% 0
%% 3> memacct:etf_flat_size(Pid, #{local_node => none}).
%% 4
%% 4> memacct:etf_flat_size(term_to_binary([[[]]]), #{max_depth => 2}).
%% {error,{too_deep,<<"term nesting exceeds the limit of 2 levels">>}}
%% '''
-spec etf_flat_size(binary(), options()) -> words() | error().
etf_flat_size(Etf, Opts) ->
    etf(Etf, Opts, flat, ?CALL([Etf, Opts])).

%% @doc The full size report of the term encoded in `Etf' (see
%% {@type size_report()}), with default options.
%%
%% ```
%% 1> maps:with([words, off_heap_bytes, refc_binaries],
%%              memacct:etf_term_size(term_to_binary({<<0:800>>, 1.5}))).
%% #{off_heap_bytes => 100,refc_binaries => 1,words => 11}
%% '''
-spec etf_term_size(binary()) -> size_report() | error().
etf_term_size(Etf) ->
    etf(Etf, #{}, full, ?CALL([Etf])).

%% @doc The full size report of the term encoded in `Etf', with
%% {@type options()}.
%%
%% ```
%% 1> Etf = term_to_binary(#{name => <<"n">>, peer => self()}).
%% 2> maps:get(fields, memacct:etf_term_size(Etf, #{local_node => none})).
%% [{<<"name">>,0,3},{<<"peer">>,0,4}]
%% 3> maps:get(fields, memacct:etf_term_size(Etf, #{fields => false})).
%% []
%% '''
-spec etf_term_size(binary(), options()) -> size_report() | error().
etf_term_size(Etf, Opts) ->
    etf(Etf, Opts, full, ?CALL([Etf, Opts])).

-spec etf(term(), term(), memacct_nif:report(), call()) -> words() | size_report() | error().
etf(Etf, Opts, Report, Call) when is_binary(Etf), is_map(Opts) ->
    NifOpts = nif_opts(Opts, Call),
    Result = case memacct_nif:etf_size(Etf, Report, NifOpts) of
                 dirty -> memacct_nif:etf_size_dirty(Etf, Report, NifOpts);
                 R -> R
             end,
    case Result of
        {ok, Size} -> Size;
        {error, _} = Error -> Error
    end;
etf(Etf, _Opts, _Report, Call) when not is_binary(Etf) ->
    badarg(Call, 1, <<"not a binary">>);
etf(_Etf, _Opts, _Report, Call) ->
    badarg(Call, 2, <<"options must be a map">>).

%% The options tuple the NIF takes (see memacct_nif:etf_opts()); an explained
%% badarg of argument 2 for a bad option.
-spec nif_opts(map(), call()) -> memacct_nif:etf_opts().
nif_opts(Opts, Call) ->
    check_keys(Opts, [local_node, max_depth, inflate_limit, fields, atom_words, safe], Call),
    Local = case maps:get(local_node, Opts, default) of
                default -> {node(), erlang:system_info(creation)};
                none -> none;
                {Name, Cr} when (is_atom(Name) orelse is_binary(Name)),
                                is_integer(Cr), Cr >= 0, Cr =< ?U32_MAX -> {Name, Cr};
                _ -> badarg(Call, 2, <<"local_node must be none or {Node, Creation} (Node an "
                                       "atom or a binary, Creation an integer in 0..2^32-1)">>)
            end,
    MaxDepth = case maps:get(max_depth, Opts, ?DEFAULT_MAX_DEPTH) of
                   D when is_integer(D), D >= 1, D =< ?U32_MAX -> D;
                   _ -> badarg(Call, 2, <<"max_depth must be an integer in 1..2^32-1">>)
               end,
    Inflate = case maps:get(inflate_limit, Opts, ?DEFAULT_INFLATE_LIMIT) of
                  L when is_integer(L), L >= 0, L =< ?U64_MAX -> L;
                  _ -> badarg(Call, 2, <<"inflate_limit must be an integer in 0..2^64-1">>)
              end,
    Fields = case maps:get(fields, Opts, true) of
                 F when is_boolean(F) -> F;
                 _ -> badarg(Call, 2, <<"fields must be a boolean">>)
             end,
    Atoms = case maps:get(atom_words, Opts, none) of
                none -> none;
                M when is_map(M) -> atom_table(maps:to_list(M), Call, []);
                L2 -> atom_table(L2, Call, [])
            end,
    Safe = case maps:get(safe, Opts, false) of
               S when is_boolean(S) -> S;
               _ -> badarg(Call, 2, <<"safe must be a boolean">>)
           end,
    {Local, MaxDepth, Inflate, Fields, Atoms, Safe}.

%% The `atom_words' option (a map, or a proper list of pairs) as the NIF
%% takes it.
-spec atom_table(term(), call(), [{binary(), non_neg_integer()}]) ->
          [{binary(), non_neg_integer()}].
atom_table([], _Call, Acc) ->
    lists:reverse(Acc);
atom_table([{A, W} | T], Call, Acc) when is_atom(A), is_integer(W), W >= 0, W =< ?U64_MAX ->
    atom_table(T, Call, [{atom_to_binary(A, utf8), W} | Acc]);
atom_table([{B, W} | T], Call, Acc) when is_binary(B), is_integer(W), W >= 0, W =< ?U64_MAX ->
    atom_table(T, Call, [{B, W} | Acc]);
atom_table(_, Call, _Acc) ->
    badarg(Call, 2, <<"atom_words must be a map or a proper list of {Atom, Word} pairs "
                      "(Atom an atom or a binary, Word an integer in 0..2^64-1)">>).

%%% ---------------------------------------------------------------------------
%%% Compact state (the codec)

%% @doc {@link compress/2} with default options.
-spec compress(term()) -> blob().
compress(Term) ->
    compress(Term, #{}).

%% @doc A lossless compact blob of `Term': `term_to_binary(Term)' through
%% memacct's codec (zstd over the ETF, versioned and checksummed). {@link decompress/1}
%% gives back a term `=:=' to `Term'.
%%
%% ```
%% 1> S = memacct_sim:connection_state(7).
%% 2> {byte_size(term_to_binary(S, [compressed])), byte_size(memacct:compress(S))}.
%% {1025,1068}
%% 3> {ok, S} = memacct:decompress(memacct:compress(S)).
%% '''
%% (The sizes vary by a few bytes from run to run: the state holds
%% references, pids and timestamps.)
%% An option of the wrong type or an unknown option raises `badarg' (the
%% shell explains which); a level outside 1..22 raises
%% `{memacct, {invalid_option, Message}}'.
-spec compress(term(), compress_options()) -> blob().
compress(Term, Opts) when is_map(Opts) ->
    Args = [Term, Opts],
    %% term_to_binary/1 output: the core need not check it is one term.
    case codec_compress(term_to_binary(Term), Opts, ?CALL(Args), false) of
        {ok, Blob} -> Blob;
        {error, Reason} -> erlang:error({memacct, Reason}, Args)
    end;
compress(Term, Opts) ->
    badarg(?CALL([Term, Opts]), 2, <<"options must be a map">>).

%% @doc {@link compress_etf/2} with default options.
-spec compress_etf(binary()) -> {ok, blob()} | error().
compress_etf(Etf) ->
    etf_blob(Etf, #{}, ?CALL([Etf])).

%% @doc A blob of the term encoded in `Etf' (`term_to_binary/1,2' output,
%% compressed or not). {@link decompress_etf/1} gives back the uncompressed
%% ETF: byte for byte `Etf' when `Etf' was not compressed.
%%
%% ```
%% 1> {ok, Blob} = memacct:compress_etf(term_to_binary({a, <<"b">>})).
%% 2> memacct:decompress_etf(Blob).
%% {ok,<<131,104,2,100,0,1,97,109,0,0,0,1,98>>}
%% 3> memacct:compress_etf(<<1, 2, 3>>).
%% {error,{bad_version,<<"not ETF: version byte is 1, expected 131">>}}
%% '''
-spec compress_etf(binary(), compress_options()) -> {ok, blob()} | error().
compress_etf(Etf, Opts) ->
    etf_blob(Etf, Opts, ?CALL([Etf, Opts])).

-spec etf_blob(term(), term(), call()) -> {ok, blob()} | error().
etf_blob(Etf, Opts, Call) when is_binary(Etf), is_map(Opts) ->
    codec_compress(Etf, Opts, Call, true);
etf_blob(Etf, _Opts, Call) when is_binary(Etf) ->
    badarg(Call, 2, <<"options must be a map">>);
etf_blob(_Etf, _Opts, Call) ->
    badarg(Call, 1, <<"not a binary">>).

%% @doc {@link decompress/2} with default options. Creates the atoms the
%% term holds (see {@link decompress/2}).
-spec decompress(blob()) -> {ok, term()} | error().
decompress(Blob) ->
    blob_term(Blob, #{}, ?CALL([Blob])).

%% @doc The term in a blob made by {@link compress/2} or
%% {@link compress_etf/2}, `=:=' to the one compressed. Never raises on the
%% blob's content: a corrupt, truncated or foreign blob, a missing or wrong
%% dictionary, and ETF that `binary_to_term/1' rejects (`invalid_value') are
%% all `{error, {Code, Message}}'. The NIF builds the term itself, with a
%% per-scheduler atom cache (no atom-table lookup per atom); what it leaves
%% (invalid ETF, or a term too large to build on a normal scheduler) goes
%% through `binary_to_term/1'.
%%
%% Like `binary_to_term/1' without `[safe]', building the term creates every
%% atom it holds that does not exist yet, and atoms are never garbage
%% collected: a blob from an untrusted source can grow the atom table (up to
%% its limit, which stops the VM). For such input pass `safe => true'.
%%
%% ```
%% 1> memacct:decompress(<<"junk">>).
%% {error,{bad_blob,<<"corrupt memacct blob: not a memacct blob (magic)">>}}
%% '''
-spec decompress(blob(), decompress_options()) -> {ok, term()} | error().
decompress(Blob, Opts) ->
    blob_term(Blob, Opts, ?CALL([Blob, Opts])).

-spec blob_term(term(), term(), call()) -> {ok, term()} | error().
blob_term(Blob, Opts, Call) when is_binary(Blob), is_map(Opts) ->
    case maps:get(safe, Opts, false) of
        true ->
            %% binary_to_term(Etf, [safe]) refuses atoms that do not exist.
            case codec_decompress(Blob, maps:remove(safe, Opts), Call, etf) of
                {ok, Etf} -> to_term(Etf, [safe]);
                R -> R
            end;
        false ->
            %% The NIF builds the term itself (no atom-table lookup per
            %% atom); ETF it declines, or too large to build on this
            %% scheduler, comes back for binary_to_term/1.
            case codec_decompress(Blob, maps:remove(safe, Opts), Call, term) of
                {etf, Etf} -> to_term(Etf, []);
                R -> R
            end;
        _ ->
            badarg(Call, 2, <<"safe must be a boolean">>)
    end;
blob_term(Blob, Opts, Call) ->
    blob_etf(Blob, Opts, Call).

%% @doc {@link decompress_etf/2} with default options.
-spec decompress_etf(blob()) -> {ok, binary()} | error().
decompress_etf(Blob) ->
    blob_etf(Blob, #{}, ?CALL([Blob])).

%% @doc The uncompressed ETF a blob decodes to (checked against the blob's
%% CRC-32 and length). No term is built and no atom created here; decoding
%% the ETF with `binary_to_term/1' without `[safe]' (or sizing it with
%% {@link etf_flat_size/2}) creates the atoms it names (see
%% {@link decompress/2}).
-spec decompress_etf(blob(), decompress_options()) -> {ok, binary()} | error().
decompress_etf(Blob, Opts) ->
    blob_etf(Blob, Opts, ?CALL([Blob, Opts])).

-spec blob_etf(term(), term(), call()) -> {ok, binary()} | error().
blob_etf(Blob, Opts, Call) when is_binary(Blob), is_map(Opts) ->
    codec_decompress(Blob, Opts, Call, etf);
blob_etf(Blob, _Opts, Call) when is_binary(Blob) ->
    badarg(Call, 2, <<"options must be a map">>);
blob_etf(_Blob, _Opts, Call) ->
    badarg(Call, 1, <<"not a binary">>).

%% @doc A blob's header, read without decoding the blob.
%%
%% ```
%% 1> memacct:blob_info(memacct:compress(lists:seq(1, 100))).
%% {ok,#{blob_bytes => 128,dictionary_id => 0,etf_bytes => 104,
%%       input_was_compressed => false,version => 2}}
%% '''
-spec blob_info(blob()) -> {ok, blob_info()} | error().
blob_info(Blob) when is_binary(Blob) ->
    memacct_nif:codec_blob_info(Blob);
blob_info(Blob) ->
    badarg(?CALL([Blob]), 1, <<"not a binary">>).

%% @doc {@link train_dictionary/2} with default options (32 KiB).
-spec train_dictionary([term()]) -> {ok, dictionary()} | error().
train_dictionary(Samples) ->
    train(Samples, #{}, ?CALL([Samples])).

%% @doc A dictionary trained on sample terms (e.g. a few dozen typical
%% connection states): small blobs of similar terms shrink most with one.
%% Runs on a dirty CPU scheduler. No samples is `bad_dictionary'; a
%% `max_bytes' outside 256..16 MiB is `invalid_option'.
%%
%% ```
%% 1> {ok, D} = memacct:train_dictionary(memacct_sim:corpus(48)).
%% 2> S = memacct_sim:connection_state(1000).
%% 3> {byte_size(memacct:compress(S)), byte_size(memacct:compress(S, #{dictionary => D}))}.
%% {1084,360}
%% '''
%% (The sizes vary from run to run, the second by a few percent: the states
%% hold references, pids and timestamps.)
-spec train_dictionary([term()], train_options()) -> {ok, dictionary()} | error().
train_dictionary(Samples, Opts) ->
    train(Samples, Opts, ?CALL([Samples, Opts])).

-spec train(term(), term(), call()) -> {ok, dictionary()} | error().
train(Samples, Opts, Call) when is_list(Samples), is_map(Opts) ->
    check_keys(Opts, [max_bytes], Call),
    Max = case maps:get(max_bytes, Opts, ?DEFAULT_DICTIONARY_BYTES) of
              M when is_integer(M), M >= 0 -> min(M, ?U64_MAX);
              _ -> badarg(Call, 2, <<"max_bytes must be a non-negative integer">>)
          end,
    Etfs = try [term_to_binary(S) || S <- Samples]
           catch error:_ -> badarg(Call, 1, <<"samples must be a proper list">>)
           end,
    memacct_nif:dictionary_train(Etfs, Max);
train(Samples, _Opts, Call) when is_list(Samples) ->
    badarg(Call, 2, <<"options must be a map">>);
train(_Samples, _Opts, Call) ->
    badarg(Call, 1, <<"samples must be a list of terms">>).

%% @doc A dictionary from {@link dictionary_to_binary/1}'s output, checked
%% whole (`bad_dictionary' when corrupt).
-spec load_dictionary(binary()) -> {ok, dictionary()} | error().
load_dictionary(Bin) when is_binary(Bin) ->
    case memacct_nif:dictionary_load(Bin) of
        dirty -> memacct_nif:dictionary_load_dirty(Bin);
        R -> R
    end;
load_dictionary(Bin) ->
    badarg(?CALL([Bin]), 1, <<"not a binary">>).

%% @doc The serialized dictionary, for {@link load_dictionary/1}.
-spec dictionary_to_binary(dictionary()) -> binary().
dictionary_to_binary(Dict) ->
    with_dict(?CALL([Dict]), fun() -> memacct_nif:dictionary_to_binary(Dict) end, 1).

%% @doc The dictionary's id: the one its blobs carry (see {@link blob_info/1}).
-spec dictionary_id(dictionary()) -> non_neg_integer().
dictionary_id(Dict) ->
    with_dict(?CALL([Dict]), fun() -> memacct_nif:dictionary_id(Dict) end, 1).

%% @doc The codec's scheduling budgets: a compress whose work estimate
%% (ETF bytes, weighted by the zstd level, plus the dictionary's size) is at
%% most `CompressWork', and a decompress of at most `DecompressBytes' (blob
%% plus decoded ETF plus dictionary), run on the calling normal scheduler;
%% larger jobs on a dirty CPU scheduler. Measured to stay well under 1 ms.
-spec codec_scheduling_limits() ->
          {CompressWork :: pos_integer(), DecompressBytes :: pos_integer()}.
codec_scheduling_limits() ->
    memacct_nif:codec_limits().

%% @private
%% @doc The explanation of a `badarg' raised by this module (the shell and
%% `erl_error' print it under the failing call).
-spec format_error(term(), erlang:stacktrace()) -> #{pos_integer() | general => binary()}.
format_error(_Reason, [{_M, _F, _As, Info} | _]) ->
    ErrorInfo = proplists:get_value(error_info, Info, #{}),
    maps:get(cause, ErrorInfo, #{});
format_error(_Reason, _Stack) ->
    #{}.

%% Compresses ETF (options checked); `CheckTerm' false only for ETF this
%% module made with term_to_binary/1.
-spec codec_compress(binary(), map(), call(), boolean()) -> {ok, blob()} | error().
codec_compress(Etf, Opts, Call, CheckTerm) ->
    check_keys(Opts, [dictionary, level, format, inflate_limit], Call),
    Dict = dict_opt(Opts, Call),
    Level = case maps:get(level, Opts, ?DEFAULT_LEVEL) of
                L when is_integer(L) -> max(-(1 bsl 31), min(L, 1 bsl 31));
                _ -> badarg(Call, 2, <<"level must be an integer in 1..22">>)
            end,
    Inflate = case maps:get(inflate_limit, Opts, ?DEFAULT_INFLATE_LIMIT) of
                  I when is_integer(I), I >= 0 -> min(I, ?U64_MAX);
                  _ -> badarg(Call, 2, <<"inflate_limit must be a non-negative integer">>)
              end,
    Format = case maps:get(format, Opts, ?DEFAULT_FORMAT) of
                 F when is_integer(F) -> max(-(1 bsl 31), min(F, 1 bsl 31));
                 _ -> badarg(Call, 2, <<"format must be an integer (1 or 2)">>)
             end,
    with_dict(Call, fun() ->
                            case memacct_nif:codec_compress(Etf, Dict, Level, Format, Inflate,
                                                            CheckTerm) of
                                dirty -> memacct_nif:codec_compress_dirty(Etf, Dict, Level, Format,
                                                                          Inflate, CheckTerm);
                                R -> R
                            end
                    end).

%% Decodes a blob (options checked) to ETF or, `term', to a term built by
%% the NIF or `{etf, Etf}' for binary_to_term/1; normal scheduler first.
-spec codec_decompress(binary(), map(), call(), etf) -> {ok, binary()} | error();
                      (binary(), map(), call(), term) -> {ok, term()} | {etf, binary()} | error().
codec_decompress(Blob, Opts, Call, As) ->
    check_keys(Opts, [dictionary, max_output], Call),
    Dict = dict_opt(Opts, Call),
    Max = case maps:get(max_output, Opts, ?DEFAULT_MAX_OUTPUT) of
              M when is_integer(M), M >= 0 -> min(M, ?U64_MAX);
              _ -> badarg(Call, 2, <<"max_output must be a non-negative integer">>)
          end,
    with_dict(Call, fun() ->
                            case As of
                                etf ->
                                    case memacct_nif:codec_decompress(Blob, Dict, Max) of
                                        dirty -> memacct_nif:codec_decompress_dirty(Blob, Dict, Max);
                                        R -> R
                                    end;
                                term ->
                                    case memacct_nif:codec_decompress_term(Blob, Dict, Max) of
                                        dirty -> memacct_nif:codec_decompress_term_dirty(Blob, Dict, Max);
                                        R -> R
                                    end
                            end
                    end).

-spec to_term(binary(), [safe]) -> {ok, term()} | error().
to_term(Etf, Opts) ->
    try binary_to_term(Etf, Opts) of
        Term -> {ok, Term}
    catch
        error:badarg when Opts =:= [safe] ->
            {error, {invalid_value, <<"the blob decodes to ETF that binary_to_term/2 rejects "
                                      "with [safe] (atoms that do not exist, or invalid ETF)">>}};
        error:badarg ->
            {error, {invalid_value, <<"the blob decodes to ETF that binary_to_term/1 rejects">>}}
    end.

%% Options are argument 2 of every function that takes them.
-spec check_keys(map(), [atom()], call()) -> ok.
check_keys(Opts, Known, {Fun, Args}) ->
    check_option_keys(?MODULE, Fun, Args, 2, Opts, Known).

%% @private
%% @doc Raises the explained `badarg' of `Module:Fun(Args)', argument `Pos',
%% when the options map `Opts' has a key not in `Known'.
-spec check_option_keys(module(), atom(), [term()], pos_integer(), map(), [atom()]) -> ok.
check_option_keys(Module, Fun, Args, Pos, Opts, Known) ->
    case maps:keys(maps:without(Known, Opts)) of
        [] -> ok;
        Unknown ->
            Why = io_lib:format("unknown option(s) ~p; known: ~p", [Unknown, Known]),
            raise_badarg(Module, Fun, Args, #{Pos => iolist_to_binary(Why)})
    end.

-spec dict_opt(map(), call()) -> memacct_nif:dict() | none.
dict_opt(Opts, Call) ->
    case maps:get(dictionary, Opts, none) of
        none -> none;
        D when is_reference(D) -> D;
        _ -> badarg(Call, 2, <<"dictionary must be a memacct:dictionary()">>)
    end.

%% Runs a NIF call that takes a dictionary: the NIF's own badarg, once every
%% other argument is checked, can only mean a reference that is not one.
-spec with_dict(call(), fun(() -> T)) -> T.
with_dict(Call, Fun) ->
    with_dict(Call, Fun, 2).

-spec with_dict(call(), fun(() -> T), pos_integer()) -> T.
with_dict(Call, Fun, Pos) ->
    try Fun()
    catch error:badarg ->
            badarg(Call, Pos, <<"dictionary: not a memacct:dictionary()">>)
    end.

-spec badarg(call(), pos_integer(), binary()) -> no_return().
badarg({Fun, Args}, Pos, Why) ->
    raise_badarg(?MODULE, Fun, Args, #{Pos => Why}).

%% @private
%% @doc Raises `badarg' as the public function `Module:Fun' called with
%% `Args' (which may have tail-called the helper that found the fault): the
%% top stack frame is `{Module, Fun, Args, [{error_info, ...}]}', so that
%% the shell and `erl_error:format_exception/3' print the call as made and
%% `Cause' (`#{ArgumentPosition => Explanation}', see format_error/2) under
%% it. The frames of `Module''s internal (unexported) functions, and one of
%% `Fun' itself, are dropped from the top of the stack: the callers' frames
%% follow.
-spec raise_badarg(module(), atom(), [term()], #{pos_integer() | general => binary()}) ->
          no_return().
raise_badarg(Module, Fun, Args, Cause) ->
    {current_stacktrace, [_Here | Stack]} = erlang:process_info(self(), current_stacktrace),
    Arity = length(Args),
    Internal = fun({M, F, A, _}) when M =:= Module; M =:= ?MODULE ->
                       (M =:= Module andalso {F, A} =:= {Fun, Arity})
                           orelse not erlang:function_exported(M, F, A);
                  (_) ->
                       false
               end,
    Frame = {Module, Fun, Args, [{error_info, #{module => ?MODULE, cause => Cause}}]},
    erlang:raise(error, badarg, [Frame | lists:dropwhile(Internal, Stack)]).

%%% ---------------------------------------------------------------------------
%%% Memory decomposition

%% @doc Measures this node and decomposes its memory (see
%% {@link memacct_decompose:decompose/1} for the options and the result).
%%
%% ```
%% 1> Pids = memacct_sim:start_connections(1000).
%% 2> {ok, D} = memacct:decompose(#{connection_pids => Pids, tolerance => 0.1}).
%% 3> maps:get(per_connection, maps:get(decomposition, D)).
%% '''
-spec decompose(memacct_decompose:options()) ->
          {ok, memacct_decompose:decomposition()} | error().
decompose(Opts) ->
    memacct_decompose:decompose(Opts).

%% @doc Decomposes the memory of every node in `Nodes' (see
%% {@link memacct_decompose:decompose_cluster/2}); a node that does not
%% answer is listed as missing, never counted as 0. memacct must be loaded
%% on every node.
-spec decompose_cluster([node()], memacct_decompose:options()) ->
          {ok, memacct_decompose:cluster_decomposition()} | error().
decompose_cluster(Nodes, Opts) ->
    memacct_decompose:decompose_cluster(Nodes, Opts).

%% @doc Measures this node: the snapshot map of `docs/SNAPSHOT.md' (see
%% {@link memacct_collect:snapshot/1}).
-spec snapshot(memacct_collect:options()) -> {ok, memacct_collect:snapshot()} | error().
snapshot(Opts) ->
    memacct_collect:snapshot(Opts).

%% @doc Writes a snapshot, a cluster snapshot (the `snapshot' of a
%% decomposition result) or a decomposition result's snapshot as JSON, for
%% Python (`memacct.load_snapshot') and C. A map JSON cannot hold (a pid,
%% a tuple, ...) is `{error, {bad_snapshot, Message}}' and nothing is written.
-spec write_snapshot(file:name_all(), memacct_collect:snapshot()) -> ok | {error, term()}.
write_snapshot(Path, #{snapshot := Snapshot, json := _}) ->
    memacct_collect:write(Path, Snapshot);
write_snapshot(Path, Snapshot) when is_map(Snapshot) ->
    memacct_collect:write(Path, Snapshot);
write_snapshot(Path, Snapshot) ->
    badarg(?CALL([Path, Snapshot]), 2, <<"not a snapshot map">>).

%% @doc The text report of a (node or cluster) decomposition, with every
%% violated rule.
-spec format_report(memacct_decompose:decomposition()
                    | memacct_decompose:cluster_decomposition()) -> binary().
format_report(D) ->
    memacct_decompose:format_report(D).

%%% ---------------------------------------------------------------------------
%%% Misc

%% @doc The VM word of each atom (`index bsl 6 bor 16#B'): export an atom
%% table so that the Python and C surfaces (or {@link etf_term_size/2} with
%% `atom_words') can size maps with more than 32 atom keys exactly as this VM
%% lays them out.
%%
%% ```
%% 1> memacct:atom_words([false, true]).
%% [{false,11},{true,75}]
%% '''
%%
%% Anything but a proper list of atoms (an improper list such as `[a | b]',
%% or a list holding a non-atom) raises `badarg' with an `error_info' cause.
-spec atom_words([atom()]) -> [{atom(), non_neg_integer()}].
atom_words(Atoms) ->
    case atom_list(Atoms) of
        true ->
            atom_words(Atoms, []);
        false ->
            erlang:error(badarg, [Atoms],
                         [{error_info, #{module => memacct,
                                         cause => #{1 => <<"not a proper list of atoms">>}}}])
    end.

-spec atom_list(term()) -> boolean().
atom_list([]) -> true;
atom_list([A | T]) when is_atom(A) -> atom_list(T);
atom_list(_) -> false.

-spec atom_words([atom()], [[{atom(), non_neg_integer()}]]) ->
          [{atom(), non_neg_integer()}].
atom_words([], Acc) ->
    lists:append(lists:reverse(Acc));
atom_words(Atoms, Acc) ->
    {Chunk, Rest} = split(?ATOM_CHUNK, Atoms, []),
    atom_words(Rest, [memacct_nif:atom_words(Chunk) | Acc]).

-spec split(non_neg_integer(), [T], [T]) -> {[T], [T]}.
split(0, Rest, Acc) -> {lists:reverse(Acc), Rest};
split(_, [], Acc) -> {lists:reverse(Acc), []};
split(N, [H | T], Acc) -> split(N - 1, T, [H | Acc]).

%% @doc The scheduling thresholds: ETF sizing jobs of at most `EtfUnits'
%% work units (a unit is about one byte handled: each byte of the ETF, and
%% for compressed input each declared inflated byte, counted before
%% inflating; each byte of a map's keys for its duplicate-key check, and
%% again per hash round of a map above 32 keys) and live terms of at most
%% `LiveUnits' work units (about one per term, plus container widths and key
%% hashing) are sized on the calling normal scheduler; a job that passes its
%% budget moves to a dirty CPU scheduler. Both were measured to stay well
%% under 1 ms on the normal scheduler.
%%
%% ```
%% 1> memacct:scheduling_limits().
%% {16384,8000}
%% '''
-spec scheduling_limits() -> {EtfUnits :: pos_integer(), LiveUnits :: pos_integer()}.
scheduling_limits() ->
    memacct_nif:limits().

%%% ---------------------------------------------------------------------------
%%% memacct's own memory

%% @doc memacct's native memory in this VM, outside the BEAM's allocators, in
%% bytes: the NIF allocates through its own jemalloc, whose statistics these
%% are. `allocated': live allocations (pools, dictionaries, codec contexts);
%% `active': the pages holding them; `resident': what the OS counts in RSS;
%% `mapped', `metadata', `retained' as jemalloc defines them.
-spec native_memory() -> #{allocated | active | resident | mapped | metadata | retained
                           => non_neg_integer()}.
native_memory() ->
    memacct_nif:native_memory().
