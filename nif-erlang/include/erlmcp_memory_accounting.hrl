%% The record of erlmcp_memory_accounting:decompose/1 (erlmcp's shape, field
%% order fixed by docs: every *_mib field is a float, also when zero).
%% Meanings, corrected (see the module documentation):
%%   per_connection_heap_mib + per_connection_state_mib = process memory
%%   (the state lives inside the process: it is never added to it);
%%   per_connection_total_mib = process memory + off-heap binary share + native pool bytes;
%%   per_node_total_rss_mib is the OS resident set of the node, not erlang:memory(total).
-record(memory_decomposition,
        {per_connection_heap_mib = 0.0 :: float(),
         per_connection_state_mib = 0.0 :: float(),
         per_connection_total_mib = 0.0 :: float(),
         per_node_base_overhead_mib = 0.0 :: float(),
         per_node_total_rss_mib = 0.0 :: float(),
         per_node_process_count = 0 :: non_neg_integer(),
         connections = 0 :: non_neg_integer(),
         cluster_nodes = 1 :: non_neg_integer(),
         cluster_total_rss_mib = 0.0 :: float(),
         scope_per_node = true :: boolean(),
         scope_per_cluster = false :: boolean(),
         timestamp = 0 :: non_neg_integer(),
         node = node() :: node(),
         measured_pids = 0 :: non_neg_integer() | [pid()]}).
