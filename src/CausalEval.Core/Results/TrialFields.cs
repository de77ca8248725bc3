using System.Text.Json;
using CausalEval.Core.Scoring;

namespace CausalEval.Core.Results;

/// <summary>
/// The fields of a <c>trials.jsonl</c> line (DESIGN §2.4), the one table the writer (<see cref="TrialJson"/>), the
/// streaming reader (<see cref="TrialLog"/>) and the tests share. A new score is one more row of <see cref="Scores"/>.
/// </summary>
public static class TrialFields
{
    public static readonly JsonEncodedText TrialId = JsonEncodedText.Encode("trial_id");
    public static readonly JsonEncodedText Task = JsonEncodedText.Encode("task");
    public static readonly JsonEncodedText TaskVersion = JsonEncodedText.Encode("task_version");
    public static readonly JsonEncodedText Split = JsonEncodedText.Encode("split");
    public static readonly JsonEncodedText Episode = JsonEncodedText.Encode("episode");
    public static readonly JsonEncodedText Model = JsonEncodedText.Encode("model");

    /// <summary>The model id behind a display name; written (after <see cref="Model"/>) only for models that have one.</summary>
    public static readonly JsonEncodedText ModelSpec = JsonEncodedText.Encode("model_spec");
    public static readonly JsonEncodedText PromptVariant = JsonEncodedText.Encode("prompt_variant");
    public static readonly JsonEncodedText Naming = JsonEncodedText.Encode("naming");
    public static readonly JsonEncodedText Epoch = JsonEncodedText.Encode("epoch");
    public static readonly JsonEncodedText Seed = JsonEncodedText.Encode("seed");
    public static readonly JsonEncodedText Target = JsonEncodedText.Encode("target");

    /// <summary>Odd-one-out: the hidden concept (written after <see cref="Target"/>, which is null there), only on that family's lines.</summary>
    public static readonly JsonEncodedText Concept = JsonEncodedText.Encode("concept");
    public static readonly JsonEncodedText Steps = JsonEncodedText.Encode("steps");
    public static readonly JsonEncodedText ScoresObject = JsonEncodedText.Encode("scores");
    public static readonly JsonEncodedText Usage = JsonEncodedText.Encode("usage");
    public static readonly JsonEncodedText Cost = JsonEncodedText.Encode("cost");
    public static readonly JsonEncodedText LatencyMs = JsonEncodedText.Encode("latency_ms");
    public static readonly JsonEncodedText StartedAt = JsonEncodedText.Encode("started_at");
    public static readonly JsonEncodedText FinishedAt = JsonEncodedText.Encode("finished_at");
    public static readonly JsonEncodedText Error = JsonEncodedText.Encode("error");

    /// <summary>Every top-level field, in the order a line has them.</summary>
    public static readonly IReadOnlyList<JsonEncodedText> Line =
        [TrialId, Task, TaskVersion, Split, Episode, Model, PromptVariant, Naming, Epoch, Seed, Target, Steps, ScoresObject, Usage, Cost,
         LatencyMs, StartedAt, FinishedAt, Error];

    /// <summary>The fields of <c>scores</c>, in the order they are written (DESIGN §1.3).</summary>
    public static readonly IReadOnlyList<ScoreField> Scores =
    [
        new("exploit_value", ScoreKind.OptionalNumber, s => s.ExploitValue, (s, v) => s with { ExploitValue = v }),
        new("optimal_value", ScoreKind.Number, s => s.OptimalValue, (s, v) => s with { OptimalValue = v!.Value }),
        new("normalized", ScoreKind.OptionalNumber, s => s.Normalized, (s, v) => s with { Normalized = v }),
        new("optimal_action", ScoreKind.ZeroOrOne, s => s.OptimalAction, (s, v) => s with { OptimalAction = (int)v!.Value }),
        new("regret", ScoreKind.OptionalNumber, s => s.Regret, (s, v) => s with { Regret = v }),
        new("explore_coverage", ScoreKind.OptionalNumber, s => s.ExploreCoverage, (s, v) => s with { ExploreCoverage = v }),
        new("subset_adherence", ScoreKind.OptionalNumber, s => s.SubsetAdherence, (s, v) => s with { SubsetAdherence = v }),
        new("structure_f1", ScoreKind.OptionalNumber, s => s.StructureF1, (s, v) => s with { StructureF1 = v }),
        new("shd", ScoreKind.OptionalCount, s => s.Shd, (s, v) => s with { Shd = v is { } d ? (int)d : null }),
        new("invalid_actions", ScoreKind.Count, s => s.InvalidActions, (s, v) => s with { InvalidActions = (int)v!.Value }),
        new("parse_failures", ScoreKind.Count, s => s.ParseFailures, (s, v) => s with { ParseFailures = (int)v!.Value }),
        new("evidence_value", ScoreKind.OptionalNumber, s => s.EvidenceValue, (s, v) => s with { EvidenceValue = v }),
        new("exploration_regret", ScoreKind.OptionalNumber, s => s.ExplorationRegret, (s, v) => s with { ExplorationRegret = v }),
        new("inference_regret", ScoreKind.OptionalNumber, s => s.InferenceRegret, (s, v) => s with { InferenceRegret = v }),
        new("explore_information", ScoreKind.OptionalNumber, s => s.ExploreInformation, (s, v) => s with { ExploreInformation = v }),
        new("best_information", ScoreKind.OptionalNumber, s => s.BestInformation, (s, v) => s with { BestInformation = v }),
        new("explore_efficiency", ScoreKind.OptionalNumber, s => s.ExploreEfficiency, (s, v) => s with { ExploreEfficiency = v }),
        new("informative_experiments", ScoreKind.OptionalNumber, s => s.InformativeExperiments, (s, v) => s with { InformativeExperiments = v }),
    ];
}

/// <summary>What values a score field holds.</summary>
public enum ScoreKind
{
    /// <summary>A number, always present.</summary>
    Number,

    /// <summary>A number, or null when the score does not apply to the episode.</summary>
    OptionalNumber,

    /// <summary>A whole number ≥ 0, always present.</summary>
    Count,

    /// <summary>A whole number, or null when the score does not apply.</summary>
    OptionalCount,

    /// <summary>0 or 1, always present.</summary>
    ZeroOrOne,
}

/// <summary>One field of a trial's <c>scores</c>: its name, kind, and how it is read from and put into <see cref="Scoring.Scores"/>.</summary>
public sealed class ScoreField(string name, ScoreKind kind, Func<Scores, double?> get, Func<Scores, double?, Scores> set)
{
    public string Name { get; } = name;

    public JsonEncodedText Encoded { get; } = JsonEncodedText.Encode(name);

    /// <summary>The field's path in a line (<c>scores.&lt;name&gt;</c>), as error messages name it.</summary>
    public string Path { get; } = "scores." + name;

    public ScoreKind Kind { get; } = kind;

    /// <summary>True when a line must have the field with a value.</summary>
    public bool Required => Kind is ScoreKind.Number or ScoreKind.Count or ScoreKind.ZeroOrOne;

    /// <summary>True for whole numbers (written without a fraction).</summary>
    public bool Whole => Kind is ScoreKind.Count or ScoreKind.OptionalCount or ScoreKind.ZeroOrOne;

    public double? Get(Scores scores) => get(scores);

    public Scores Set(Scores scores, double? value) => set(scores, value);
}
