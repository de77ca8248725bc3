using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Models;
using CausalEval.Prompts.Naming;
using CausalEval.Models.Costs;
using CausalEval.Models.Middleware;

namespace CausalEval.Runs;

/// <summary>
/// Everything a run is asked to do, however it was asked (<c>causaleval run</c>'s options and plan file, or the library
/// API): what to run, how model calls are made, and the folder. A resumed run takes its plan from its <c>run.json</c>.
/// </summary>
internal sealed record RunRequest
{
    /// <summary>Task ids (empty: every task).</summary>
    public IReadOnlyList<string> Tasks { get; init; } = [];

    /// <summary>Model ids, each optionally <c>NAME=SPEC</c> with a display name (empty: <see cref="DefaultModels"/>).</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>The models of the default suite.</summary>
    public IReadOnlyList<string> DefaultModels { get; init; } = [];

    /// <summary>Only the first N episodes of each test split; null: all.</summary>
    public int? Episodes { get; init; }

    public int Epochs { get; init; } = 1;

    public ulong Seed { get; init; }

    /// <summary>Trials played at once; null: the processor count (a resumed run: the run's).</summary>
    public int? Concurrency { get; init; }

    /// <summary>The run folder; null: <c>results/&lt;run-id&gt;</c>.</summary>
    public string? Output { get; init; }

    /// <summary>Where <see cref="Output"/> came from when not from <c>--out</c> (a plan's <c>plan.yaml:LINE</c>); null: <c>--out</c>.</summary>
    public string? OutputOrigin { get; init; }

    /// <summary>An interrupted run's folder to finish; its plan comes from its <c>run.json</c>.</summary>
    public string? Resume { get; init; }

    /// <summary>With <see cref="Resume"/>: play again the trials that ended in a retryable error (<c>--retry-errors</c>).</summary>
    public bool RetryErrors { get; init; }

    /// <summary>Score with the ideal observer (false: <c>--no-observer</c>); a resumed run keeps its own choice.</summary>
    public bool Observer { get; init; } = true;

    /// <summary>The datasets folder; null: located as usual.</summary>
    public string? Datasets { get; init; }

    /// <summary>The committed split played: test or validation (<c>--split</c>).</summary>
    public string Split { get; init; } = TaskDefinition.TestSplit;

    /// <summary>
    /// The run's <c>openai/</c> and <c>azure/</c> models answer through the provider's Batch API (<c>--batch</c>, a plan's
    /// <c>batch: true</c>), at its batch rates; a resumed run keeps what its run.json says.
    /// </summary>
    public bool Batch { get; init; }

    /// <summary>The Batch API's limits and polling (tests make them small); null: OpenAI's.</summary>
    public Models.Batch.BatchSettings? BatchSettings { get; init; }

    /// <summary>Only this shard of the plan (<c>--shard K/N</c>); null: all of it.</summary>
    public RunShard? Shard { get; init; }

    /// <summary>Prompt variants for chat models (empty: the default variant).</summary>
    public IReadOnlyList<string> Prompts { get; init; } = [];

    /// <summary>Naming scheme for chat models.</summary>
    public string Naming { get; init; } = NamingSchemes.Default;

    /// <summary>Spending cap in US dollars (<c>--max-cost</c>).</summary>
    public double? MaxCost { get; init; }

    public string? CacheDirectory { get; init; }

    public bool NoCache { get; init; }

    /// <summary>A price file over the committed defaults (<c>--prices</c>).</summary>
    public string? PricesFile { get; init; }

    /// <summary>Per-model prices over the price files, and where they came from (a plan file).</summary>
    public IReadOnlyList<ModelPrice> ModelPrices { get; init; } = [];

    public string? ModelPricesSource { get; init; }

    public ResilienceSettings Resilience { get; init; } = new();

    /// <summary>Where every call to a provider is logged (<c>--verbose</c>); null: not logged.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? ChatLogging { get; init; }

    public IReadOnlyDictionary<string, CallLimits> ProviderLimits { get; init; } = new Dictionary<string, CallLimits>();

    public IReadOnlyDictionary<string, CallLimits> ModelLimits { get; init; } = new Dictionary<string, CallLimits>();

    /// <summary>The most bytes a model's response body may have (a plan's <c>limits.max_response_bytes</c>); null: the default.</summary>
    public long? MaxResponseBytes { get; init; }

    /// <summary>
    /// <c>--attempt-timeout</c>, <c>--call-timeout</c>, <c>--max-response-bytes</c>: over the plan's, and also taken on resume
    /// (they change how calls are made, not what is run).
    /// </summary>
    public TimeSpan? AttemptTimeoutOverride { get; init; }

    public TimeSpan? CallTimeoutOverride { get; init; }

    public long? MaxResponseBytesOverride { get; init; }

    /// <summary>What started the run, as <c>run.json</c> records it.</summary>
    public IReadOnlyList<string> CommandLine { get; init; } = [];

    public string ToolVersion { get; init; } = "0.0.0";

    public string GitRevision { get; init; } = "unknown";
}
