using System.Collections.Concurrent;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;

namespace CausalEval.Models.Batch;

/// <summary>
/// The Batch API's limits and polling (defaults: OpenAI's). A round's requests are split into files of at most
/// <see cref="MaxRequestsPerFile"/> requests and <see cref="MaxFileBytes"/> bytes; a batch is polled first after
/// <see cref="FirstPoll"/>, then at doubling intervals up to <see cref="MaxPoll"/>; an output or error file may have at
/// most <see cref="MaxDownloadBytes"/> bytes.
/// </summary>
public sealed record BatchSettings
{
    /// <summary>Requests per batch file (OpenAI: 50,000).</summary>
    public int MaxRequestsPerFile { get; init; } = 50_000;

    /// <summary>Bytes per batch file (OpenAI: 200 MB).</summary>
    public long MaxFileBytes { get; init; } = 200_000_000;

    /// <summary>The first wait before a batch is polled.</summary>
    public TimeSpan FirstPoll { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest wait between two polls.</summary>
    public TimeSpan MaxPoll { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest output or error file accepted.</summary>
    public long MaxDownloadBytes { get; init; } = 1L << 30;
}

/// <summary>
/// A run's Batch API machinery (<c>run --batch</c>): one <see cref="BatchQueue"/> per batched model id, which parks each
/// request its trials send and, once every live trial of the model is waiting, sends them as one round (one batch per
/// provider file). Trials are counted live from their agent's creation to its disposal (<see cref="Track"/>); a run tells
/// how many trials of each model it will start (<see cref="Expect"/>), so a round never closes before they have all
/// started. The state (file ids, batch ids, ended batches and their files) lives in the run folder (<see cref="Open"/>).
/// </summary>
public sealed class BatchRuns : IDisposable
{
    private readonly ConcurrentDictionary<string, BatchQueue> _queues = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private readonly TimeProvider _time;
    private BatchState? _state;

    /// <summary>The machinery of a batch run on <paramref name="time"/>'s clock (polling back-off).</summary>
    public BatchRuns(TimeProvider time, BatchSettings? settings = null)
    {
        _time = time;
        Settings = settings ?? new BatchSettings();
    }

    /// <summary>The limits and polling.</summary>
    public BatchSettings Settings { get; }

    /// <summary>Providers whose models go through the Batch API; other models of a batch run answer live.</summary>
    public static readonly IReadOnlyList<string> Providers = ["openai", "azure"];

    /// <summary>Whether <paramref name="modelId"/> goes through the Batch API in a batch run.</summary>
    public static bool Covers(string modelId) => Providers.Any(p => modelId.StartsWith(p + "/", StringComparison.Ordinal));

    /// <summary>Batches created this attempt (rounds × files).</summary>
    public int BatchesCreated => _queues.Values.Sum(q => q.BatchesCreated);

    /// <summary>Rounds played this attempt, counting those answered from batches of an earlier attempt.</summary>
    public int Rounds => _queues.Values.Sum(q => q.Rounds);

    /// <summary>Batches this attempt found submitted by an earlier one and polled instead of submitting again.</summary>
    public int BatchesResumed => _queues.Values.Sum(q => q.BatchesResumed);

    /// <summary>Reads (or starts) the state in the run folder; called once the folder exists, before the first trial.</summary>
    public void Open(string runDirectory) => _state = BatchState.Open(runDirectory);

    internal BatchState State => _state ?? throw new InvalidOperationException("the batch state was not opened (BatchRuns.Open)");

    /// <summary>Batches created and not known to have ended (they keep running, and are billed, at the provider).</summary>
    public IReadOnlyList<(string BatchId, string Model)> OpenBatches() => _state?.Open() ?? [];

    /// <summary>This attempt starts <paramref name="trials"/> trials of <paramref name="modelId"/>.</summary>
    public void Expect(string modelId, long trials) => Queue(modelId).Expect(trials);

    /// <summary>No more trials start (a stop): rounds close over the trials that did.</summary>
    public void StopExpecting()
    {
        foreach (var queue in _queues.Values)
        {
            queue.StopExpecting();
        }
    }

    /// <summary><paramref name="factory"/>'s agents counted live from creation to disposal (the round barrier).</summary>
    public AgentFactory Track(string modelId, AgentFactory factory)
    {
        var queue = Queue(modelId);
        return context =>
        {
            queue.TrialStarted();
            try
            {
                return new TrackedAgent(factory(context), queue);
            }
            catch
            {
                queue.TrialEnded();
                throw;
            }
        };
    }

    /// <summary>The HTTP handler that parks <paramref name="modelId"/>'s chat requests in its queue, over <paramref name="service"/>.</summary>
    internal DelegatingHandler Handler(string modelId, Func<IBatchService> service)
    {
        var queue = Queue(modelId);
        queue.Service = new Lazy<IBatchService>(service);
        return new BatchHandler(queue);
    }

    /// <summary>Asks the provider to cancel every open batch (the user said so); returns the ids it cancelled.</summary>
    public async Task<IReadOnlyList<string>> CancelOpenAsync(CancellationToken cancellationToken)
    {
        var cancelled = new List<string>();
        foreach (var (batchId, model) in OpenBatches())
        {
            if (_queues.TryGetValue(model, out var queue) && queue.Service is { } service)
            {
                await service.Value.CancelAsync(batchId, cancellationToken).ConfigureAwait(false);
                cancelled.Add(batchId);
            }
        }
        return cancelled;
    }

    /// <summary>
    /// Batches left running at the provider when a run stops (Ctrl-C): cancelled only if <paramref name="ask"/> (the person
    /// at the terminal) says yes; otherwise, and with nobody to ask, left running. Returns what to tell the user (null:
    /// no open batch).
    /// </summary>
    public async Task<string?> SettleOpenAsync(Func<string, bool>? ask, string runDirectory)
    {
        if (OpenBatches() is not { Count: > 0 } open)
        {
            return null;
        }
        var ids = string.Join(", ", open.Select(b => b.BatchId));
        if (ask is not null && ask($"{open.Count} batches still run at the provider ({ids}). Cancel them? (What they have answered is billed either way.)"))
        {
            var cancelled = await CancelOpenAsync(CancellationToken.None).ConfigureAwait(false);
            return $"asked the provider to cancel {string.Join(", ", cancelled)}; causaleval run --resume {runDirectory} collects what they answered and sends the rest again";
        }
        // Not cancelled: their answers are paid for once they run, and --resume collects them without resubmitting.
        return $"{open.Count} batches still run at the provider ({ids}); they were not cancelled: collect their answers with: causaleval run --resume {runDirectory}";
    }

    private BatchQueue Queue(string modelId) => _queues.GetOrAdd(modelId, id => new BatchQueue(id, () => State, Settings, _time, _disposed.Token));

    /// <summary>Stops polling (the batches stay at the provider; their state is in the run folder).</summary>
    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }

    /// <summary>An agent counted live until its trial disposes it.</summary>
    private sealed class TrackedAgent(IAgent inner, BatchQueue queue) : IAgent, IDisposable
    {
        private int _ended;

        public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken) =>
            inner.DecideAsync(view, cancellationToken);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                (inner as IDisposable)?.Dispose();
                queue.TrialEnded();
            }
        }
    }
}

/// <summary>
/// The call a chat request belongs to, from the pipeline's error classification (which takes it off the options) down to
/// the HTTP handler of a batch run, which names the request after it (flows with the async call).
/// </summary>
internal static class BatchCall
{
    public static readonly AsyncLocal<ChatCall?> Current = new();
}
