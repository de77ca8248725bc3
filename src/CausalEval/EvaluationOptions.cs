namespace CausalEval;

/// <summary>
/// What <see cref="CausalEvaluation.RunAsync"/> runs: tasks × models × prompt variants × epochs over each task's
/// committed split, as <c>causaleval run</c> does with the same options.
/// </summary>
public sealed record EvaluationOptions
{
    /// <summary>Task ids (see <c>causaleval datasets list</c>); empty: every task.</summary>
    public IReadOnlyList<string> Tasks { get; init; } = [];

    /// <summary>The models to evaluate; empty: the built-in reference agents.</summary>
    public IReadOnlyList<EvaluatedModel> Models { get; init; } = [];

    /// <summary>Prompt variants chat models are played with (one trial per episode and variant); empty: <c>zero-shot</c>.</summary>
    public IReadOnlyList<string> Prompts { get; init; } = [];

    /// <summary>Only the first N episodes of each task's split; null: all of them.</summary>
    public int? Episodes { get; init; }

    /// <summary>Times each episode is played (each epoch meets other environment noise).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>The run seed (environment noise and agent randomness): the same seed gives the same trials.</summary>
    public ulong Seed { get; init; }

    /// <summary>Trials played at once; null: the processor count.</summary>
    public int? Concurrency { get; init; }

    /// <summary>The variable names chat models see: <c>letters</c> (default), <c>semantic</c> or <c>nonsense</c>.</summary>
    public string Naming { get; init; } = "letters";

    /// <summary>The committed split played: <c>test</c> (default) or <c>validation</c>.</summary>
    public string Split { get; init; } = "test";

    /// <summary>
    /// Stop scheduling new trials once the run has spent this many US dollars; needs a price for every chat model
    /// (<see cref="PricesFile"/>). Null: no cap.
    /// </summary>
    public double? MaxCostUsd { get; init; }

    /// <summary>A price file (JSON, US dollars per million tokens, as <c>causaleval run --prices</c>) over the shipped prices.</summary>
    public string? PricesFile { get; init; }

    /// <summary>The run folder (new or empty); null: <c>results/&lt;run-id&gt;</c> under the current folder.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>
    /// An interrupted run's folder to finish instead of starting a new run: its plan comes from its <c>run.json</c>
    /// (the plan options here are then not used), and no trial is played twice. Its models must be given again in
    /// <see cref="Models"/> when they are your own chat clients.
    /// </summary>
    public string? ResumeDirectory { get; init; }

    /// <summary>The datasets folder; null: <c>$CAUSALEVAL_DATASETS</c>, <c>./datasets</c>, else the copy shipped with the package.</summary>
    public string? DatasetsDirectory { get; init; }

    /// <summary>Answer repeated identical model calls from the response cache (default true).</summary>
    public bool UseResponseCache { get; init; } = true;

    /// <summary>
    /// Score trials with the ideal observer's regret decomposition and information (<c>--no-observer</c> when false):
    /// exact posteriors over the task's world family, a few milliseconds to tens of milliseconds per explore step.
    /// </summary>
    public bool ScoreWithIdealObserver { get; init; } = true;

    /// <summary>The response cache folder; null: <c>$XDG_CACHE_HOME/causaleval</c>, else <c>~/.cache/causaleval</c>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Receives the number of trials written so far in this call.</summary>
    public IProgress<long>? Progress { get; init; }

    /// <summary>Receives notices and warnings (one line each, e.g. a missing price); null: they are dropped.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>The clock of the run (timestamps, latencies, retry waits); null: the system clock.</summary>
    public TimeProvider? TimeProvider { get; init; }
}
