using CausalEval.Core.Tasks;

namespace CausalEval.Core.Running;

/// <summary>What a run does: tasks × models × prompt variants × epochs over each task's test split.</summary>
public sealed record RunPlan
{
    public required IReadOnlyList<TaskDefinition> Tasks { get; init; }
    public required IReadOnlyList<string> Models { get; init; }

    /// <summary>Prompt variants for LLM agents; a single null entry for runs of non-LLM agents.</summary>
    public IReadOnlyList<string?> PromptVariants { get; init; } = [null];

    /// <summary>
    /// Models played once per prompt variant (prompted models); every other model is played once, with no variant.
    /// Null: every model plays every variant.
    /// </summary>
    public IReadOnlySet<string>? PromptModels { get; init; }

    /// <summary>Variable naming scheme shown to prompted models (letters, semantic, nonsense); null for none.</summary>
    public string? Naming { get; init; }

    /// <summary>The prompt variants <paramref name="model"/> is played with.</summary>
    public IReadOnlyList<string?> VariantsFor(string model) => PromptModels is null || PromptModels.Contains(model) ? PromptVariants : [null];

    /// <summary>The naming scheme <paramref name="model"/> is played with (null for models that take no prompts).</summary>
    public string? NamingFor(string model) => PromptModels is null || PromptModels.Contains(model) ? Naming : null;

    public int Epochs { get; init; } = 1;
    public ulong Seed { get; init; }
    public int Concurrency { get; init; } = Environment.ProcessorCount;

    /// <summary>Only the first N episodes of each test split; null means all.</summary>
    public int? Episodes { get; init; }

    public string Split { get; init; } = "test";

    /// <summary>Display names of models (id → name, <c>--model NAME=SPEC</c>); a model without one shows its id.</summary>
    public IReadOnlyDictionary<string, string> ModelNames { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Score trials on tasks with a world family the ideal observer covers with its regret decomposition and information
    /// (DESIGN §1.6; <c>--no-observer</c> turns it off for many-epoch runs, where each epoch's evidence is new).
    /// </summary>
    public bool Observer { get; init; } = true;

    /// <summary>Only this shard's trials (<c>--shard K/N</c>); null: every trial of the plan.</summary>
    public RunShard? Shard { get; init; }

    public const string DefaultSuiteDescription = "every task's test split with every built-in agent";
}
