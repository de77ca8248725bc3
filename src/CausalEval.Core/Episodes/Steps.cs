using System.Collections.Immutable;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Episodes;

public enum Phase
{
    Explore,
    Exploit,
    Structure,
}

public enum StepStatus
{
    /// <summary>Parsed and allowed; for explore steps the intervention was carried out.</summary>
    Valid,

    /// <summary>Parsed, but not allowed (unknown or hidden variable, the target, a value not offered…).</summary>
    Invalid,

    /// <summary>The agent's answer could not be read as an action.</summary>
    ParseFailure,
}

/// <summary>
/// Tokens model calls consumed. <see cref="InputTokens"/> and <see cref="OutputTokens"/> are what the provider billed
/// (live calls); <see cref="CachedInputTokens"/> and <see cref="CachedOutputTokens"/> are the tokens of answers served
/// from the response cache (as billed when the answer was first made), which cost nothing this time.
/// <see cref="PromptCacheTokens"/> is the part of <see cref="InputTokens"/> the provider read from its own prompt cache
/// (OpenAI <c>cached_tokens</c>, Anthropic cache reads): billed, at the provider's cached rate where the price table has one.
/// <see cref="PromptCacheWriteTokens"/> is the part of <see cref="InputTokens"/> the provider wrote to its prompt cache
/// (Anthropic <c>cache_creation_input_tokens</c>): billed above the input rate (Anthropic: 1.25× for the 5-minute cache).
/// <see cref="UnmeteredAttempts"/> counts attempts abandoned (timed out or cancelled) before the server reported any usage:
/// a provider may bill the work it did for them, but no count of their tokens exists, so no cost is counted for them.
/// </summary>
public readonly record struct Usage(long InputTokens, long OutputTokens, long CachedInputTokens = 0, long CachedOutputTokens = 0,
    long PromptCacheTokens = 0, long PromptCacheWriteTokens = 0, long UnmeteredAttempts = 0)
{
    public static Usage operator +(Usage a, Usage b) => new(a.InputTokens + b.InputTokens, a.OutputTokens + b.OutputTokens,
        a.CachedInputTokens + b.CachedInputTokens, a.CachedOutputTokens + b.CachedOutputTokens, a.PromptCacheTokens + b.PromptCacheTokens,
        a.PromptCacheWriteTokens + b.PromptCacheWriteTokens, a.UnmeteredAttempts + b.UnmeteredAttempts);

    /// <summary>The same tokens counted as served from the cache (nothing billed).</summary>
    public Usage AsCached() => new(0, 0, CachedInputTokens + InputTokens, CachedOutputTokens + OutputTokens);
}

/// <summary>One chat message sent to a model: role (system, user, assistant) and text.</summary>
public sealed record PromptMessage(string Role, string Content);

/// <summary>What an agent answered at one step.</summary>
/// <remarks>
/// The fields only a model call fills (the raw answer, usage, messages, latency, lenient readings, retries) live in one
/// object made when the first of them is set, so a built-in agent's decision is a third of the size: a run allocates
/// one per step. Equality compares the properties, however they are stored.
/// </remarks>
public sealed record AgentDecision
{
    private ModelCall? _call;

    public AgentDecision()
    {
    }

    /// <summary>The copy a <c>with</c> expression starts from: its own model-call fields, so setting one leaves the original as it was.</summary>
    private AgentDecision(AgentDecision original)
    {
        Action = original.Action;
        Move = original.Move;
        Edges = original.Edges;
        ParseError = original.ParseError;
        _call = original._call is { } call ? call with { } : null;
    }

    /// <summary>The intervention chosen (explore and exploit); null when the answer had none.</summary>
    public Intervention? Action { get; init; }

    /// <summary>The odd-one-out action chosen (a transform or a pick); null when the answer had none or the task is a causal-DAG one.</summary>
    public OddOneOut.OddOneOutMove? Move { get; init; }

    /// <summary>Model agents on odd-one-out: what a lenient reading of <see cref="RawAnswer"/> found (the strict <see cref="Move"/> scores).</summary>
    public OddOneOut.OddOneOutMove? LenientMove { get => _call?.LenientMove; init => Call(value is null)?.LenientMove = value; }

    /// <summary>Direct edges claimed (structure question); null when the answer had none.</summary>
    public ImmutableArray<DirectedLink>? Edges { get; init; }

    /// <summary>Why the answer could not be read, when it could not.</summary>
    public string? ParseError { get; init; }

    public string? RawAnswer { get => _call?.RawAnswer; init => Call(value is null)?.RawAnswer = value; }

    public string? Rationale { get => _call?.Rationale; init => Call(value is null)?.Rationale = value; }

    public Usage Usage { get => _call?.Usage ?? default; init => Call(value == default)?.Usage = value; }

    /// <summary>
    /// Model agents: what a lenient reading of <see cref="RawAnswer"/> found (recorded next to the strict
    /// <see cref="Action"/>, which is the one that scores); null when the lenient reading found none either.
    /// </summary>
    public Intervention? LenientAction { get => _call?.LenientAction; init => Call(value is null)?.LenientAction = value; }

    /// <summary>Model agents: the lenient reading of a structure answer (the strict one is <see cref="Edges"/>).</summary>
    public ImmutableArray<DirectedLink>? LenientEdges { get => _call?.LenientEdges; init => Call(value is null)?.LenientEdges = value; }

    /// <summary>
    /// Model agents: the messages new at this step (the whole prompt at the first step, then the feedback and the
    /// next question); the conversation is every earlier step's messages and raw answer, in order. Default: none.
    /// </summary>
    public ImmutableArray<PromptMessage> Messages { get => _call?.Messages ?? default; init => Call(value.IsDefault)?.Messages = value; }

    /// <summary>Model agents: wall time of the model call(s) of this step.</summary>
    public TimeSpan? Latency { get => _call?.Latency; init => Call(value is null)?.Latency = value; }

    /// <summary>
    /// Model agents: the answer came from the response cache — <see cref="Usage"/> is what the answer cost when it was
    /// first made, counted apart (as cached tokens) and at no cost in this run.
    /// </summary>
    public bool Cached { get => _call?.Cached ?? false; init => Call(!value)?.Cached = value; }

    /// <summary>Model agents: how many times the call was retried (rate limits, server errors, timeouts) before it was answered.</summary>
    public int Retries { get => _call?.Retries ?? 0; init => Call(value == 0)?.Retries = value; }

    /// <summary>Model agents: why each retry happened (what failed, how long it waited), one entry per retry.</summary>
    public ImmutableArray<string> RetryReasons
    {
        get => _call?.RetryReasons ?? [];
        init => Call(value is { IsDefault: false, IsEmpty: true })?.RetryReasons = value;
    }

    public static AgentDecision Act(Intervention action) => new() { Action = action };

    public static AgentDecision Act(OddOneOut.OddOneOutMove move) => new() { Move = move };

    public static AgentDecision Answer(ImmutableArray<DirectedLink> edges) => new() { Edges = edges };

    public bool Equals(AgentDecision? other)
        => ReferenceEquals(this, other) || (other is not null
            && Action == other.Action && Move == other.Move && Nullable.Equals(Edges, other.Edges) && ParseError == other.ParseError
            && EqualityComparer<ModelCall>.Default.Equals(_call ?? ModelCall.None, other._call ?? ModelCall.None));

    public override int GetHashCode() => HashCode.Combine(Action, Move, Edges, ParseError, _call ?? ModelCall.None);

    /// <summary>
    /// This decision's model-call fields, made on first use; null when <paramref name="unset"/> (the value being set is
    /// the default) and there are none yet, so a decision without them need not make any. Only init accessors call it,
    /// while the decision is built.
    /// </summary>
    private ModelCall? Call(bool unset) => _call ?? (unset ? null : _call = new ModelCall());

    private sealed record ModelCall
    {
        public static readonly ModelCall None = new();

        public OddOneOut.OddOneOutMove? LenientMove { get; set; }
        public string? RawAnswer { get; set; }
        public string? Rationale { get; set; }
        public Usage Usage { get; set; }
        public Intervention? LenientAction { get; set; }
        public ImmutableArray<DirectedLink>? LenientEdges { get; set; }
        public ImmutableArray<PromptMessage> Messages { get; set; }
        public TimeSpan? Latency { get; set; }
        public bool Cached { get; set; }
        public int Retries { get; set; }
        public ImmutableArray<string> RetryReasons { get; set; } = [];
    }
}

/// <summary>One step of an episode's transcript.</summary>
public sealed record StepRecord(
    int Index,
    Phase Phase,
    AgentDecision Decision,
    StepStatus Status,
    string? Error,
    ImmutableArray<double> Observation)
{
    public Intervention? Action => Decision.Action;

    /// <summary>Odd-one-out steps: the objects after the step and, for a valid pick, whether it was correct.</summary>
    public OddOneOut.OddOneOutOutcome? Outcome { get; init; }
}

/// <summary>The whole transcript of a played episode.</summary>
public sealed record EpisodeTranscript(ImmutableArray<StepRecord> Steps)
{
    public StepRecord? Exploit => First(Phase.Exploit);

    public StepRecord? Structure => First(Phase.Structure);

    /// <summary>The first step of <paramref name="phase"/>, if any (a loop: every trial's scorers ask).</summary>
    private StepRecord? First(Phase phase)
    {
        foreach (var step in Steps)
        {
            if (step.Phase == phase)
            {
                return step;
            }
        }
        return null;
    }

    public Usage Usage
    {
        get
        {
            var total = default(Usage);
            foreach (var step in Steps)
            {
                total += step.Decision.Cached ? step.Decision.Usage.AsCached() : step.Decision.Usage;
            }
            return total;
        }
    }
}

/// <summary>
/// What an agent may see when it decides: never the world, only the visible options, the history of its own
/// steps (with observations), the passive evidence and — once revealed — the goal.
/// <see cref="History"/> is a read-only view of the episode's live list: copy it to keep a snapshot.
/// </summary>
public sealed record EpisodeView(
    EpisodeBrief Brief,
    Phase Phase,
    int StepIndex,
    string? Target,
    IReadOnlyList<StepRecord> History)
{
    /// <summary>Odd-one-out episodes: the trial the agent is in (null for causal-DAG episodes).</summary>
    public OddOneOut.OddOneOutView? OddOneOut { get; init; }
}

/// <summary>The visible part of an episode, fixed for its whole length.</summary>
public sealed record EpisodeBrief(
    string EpisodeId,
    ImmutableArray<string> Variables,
    ImmutableArray<double> AllowedValues,
    ImmutableArray<string> Subset,
    ImmutableArray<string> ExploreVariables,
    int ExploreSteps,
    bool GoalFirst,
    bool AskStructure,
    PassiveEvidence? Evidence)
{
    public static EpisodeBrief From(Episode episode) => new(
        episode.Id,
        episode.World.Observable,
        episode.Options.AllowedValues,
        episode.Options.Subset,
        episode.ExploreVariables,
        episode.ExploreSteps,
        episode.Options.GoalFirst,
        episode.Options.AskStructure,
        episode.Options.Evidence);

    /// <summary>Variables the exploit step may set for <paramref name="target"/>.</summary>
    public IEnumerable<string> ExploitVariables(string target) => ExploreVariables.Where(v => v != target);

    /// <summary>Position of <paramref name="variable"/> in <see cref="Variables"/> (ordinal), or −1.</summary>
    public int IndexOf(string variable) => VariableNames.IndexOf(Variables.AsSpan(), variable);
}
