using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using CausalEval.Core.Json;

namespace CausalEval.Baseline;

/// <summary>
/// <c>model.json</c> beside a checkpoint's weights: what the network is, what it learned from, how it was trained,
/// and what it scores on the test splits. The architecture fields are what loading needs.
/// </summary>
internal sealed record ModelCard
{
    public const string FileName = "model.json";
    public const string WeightsFileName = "model.bin";
    public const string CurrentFormat = "causaleval-torch-baseline/1";

    public string Format { get; init; } = CurrentFormat;

    /// <summary>The task family the checkpoint plays: <c>odd-one-out</c>, or null for the causal-DAG families (cards before it existed).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Family { get; init; }
    public required CardArchitecture Architecture { get; init; }
    public required CardData Data { get; init; }
    public required CardTraining Training { get; init; }
    /// <summary>Scores on the validation splits: what every choice (recipe, steps, checkpoint) was made on.</summary>
    public IReadOnlyList<TaskScores> ValidationScores { get; init; } = [];

    public IReadOnlyList<TaskScores> TestScores { get; init; } = [];

    /// <summary>The same recipe trained with each seed (empty for a single training); the checkpoint is the seed best on validation.</summary>
    public IReadOnlyList<SeedResult> SeedStudy { get; init; } = [];

    /// <summary>How the seed study chose this checkpoint (null for a single training).</summary>
    public string? Selection { get; init; }

    public string? WeightsSha256 { get; init; }

    /// <summary>A card is read by people: keep "D->B" and apostrophes as they are; conditions in kebab case.</summary>
    private static readonly BaselineJsonContext Json = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower), new JsonInput.FiniteDoubleConverter() },
    });

    public string ToJson() => JsonSerializer.Serialize(this, Json.ModelCard) + "\n";

    /// <summary>Reads a card; a damaged one is bad input naming <paramref name="source"/> and the field.</summary>
    public static ModelCard Parse(string source, string json) => JsonInput.Deserialize(source, json, Json.ModelCard);
}

internal sealed record CardArchitecture
{
    public string Kind { get; init; } = "causal-transformer";
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int Width { get; init; }
    public required int HiddenWidth { get; init; }
    public required int MaxVariables { get; init; }
    public required int MaxValues { get; init; }
    public required int MaxTokens { get; init; }
    public required int Features { get; init; }
    public required long Parameters { get; init; }
    public string Tokens { get; init; } =
        "one token per decision: previous action (variable one-hot, value/scale, flag), observed values/scale, observed values/intervention value, " +
        "flag, phase one-hot, goal target one-hot, cued-variable mask, variable mask, allowed values/scale; learned positions";
    public string Outputs { get; init; } = "action logits (variable x value slot) and edge logits (variable x variable) on every token";

    public EncoderShape Encoder() => new(MaxVariables, MaxValues, MaxTokens);

    public NetworkShape Network() => new(Layers, Heads, Width, HiddenWidth);

    public static CardArchitecture From(PolicyNetwork network) => new()
    {
        Layers = network.Network.Layers,
        Heads = network.Network.Heads,
        Width = network.Network.Width,
        HiddenWidth = network.Network.HiddenWidth,
        MaxVariables = network.Encoder.MaxVariables,
        MaxValues = network.Encoder.MaxValues,
        MaxTokens = network.Encoder.MaxTokens,
        Features = network.Encoder.Features,
        Parameters = network.ParameterCount,
    };
}

internal sealed record CardData
{
    public required DataCondition Condition { get; init; }
    public string Teacher { get; init; } = "builtin/expert";
    public required IReadOnlyList<DemonstrationSource> Sources { get; init; }
    public required int Episodes { get; init; }
    public required int Tokens { get; init; }
    public required string Labels { get; init; }
}

internal sealed record CardTraining
{
    public required ulong Seed { get; init; }
    public required int Steps { get; init; }
    public required int BatchSize { get; init; }
    public required double LearningRate { get; init; }
    public string Optimizer { get; init; } = "AdamW (weight decay 0.01), linear warm-up then cosine decay, gradient norm clipped at 1";
    public string Loss { get; init; } = "mean cross-entropy on explore tokens + on exploit tokens + binary cross-entropy on structure edges";
    public required int Threads { get; init; }

    /// <summary>Odd-one-out recipes: which auxiliary explanation loss was trained (off, context, on; null for causal-DAG recipes).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ExplanationTargets? Explanations { get; init; }

    public required double Seconds { get; init; }
    public required double FinalLoss { get; init; }
    /// <summary>On the last minibatch; null when the data has no such labels.</summary>
    public required double? FinalExploreAccuracy { get; init; }
    public required double? FinalExploitAccuracy { get; init; }

    /// <summary>Over the whole training set after training: how well the network fits its own data.</summary>
    public double? TrainingSetExploreAccuracy { get; init; }
    public double? TrainingSetExploitAccuracy { get; init; }

    /// <summary>Odd-one-out: share of the explanation tokens of the training set whose concept the explanation head names right.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TrainingSetConceptAccuracy { get; init; }
    public required string Command { get; init; }
    public string Library { get; init; } = "TorchSharp " + typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3);
}

/// <summary>One seed of a seed study: its validation and test scores and the training loss it reached.</summary>
internal sealed record SeedResult
{
    public required ulong Seed { get; init; }
    public required double SelectionScore { get; init; }
    public required double FinalLoss { get; init; }
    public double? FinalExploitAccuracy { get; init; }
    public required IReadOnlyList<TaskScores> ValidationScores { get; init; }
    public required IReadOnlyList<TaskScores> TestScores { get; init; }
}

/// <summary>Scores of one task's split, as <c>causaleval run --seed 0 [--split validation]</c> would get them.</summary>
internal sealed record TaskScores
{
    public required string Task { get; init; }
    public required int Version { get; init; }
    public required int Episodes { get; init; }
    public required double Normalized { get; init; }
    public required double OptimalAction { get; init; }
    public double? ExploreCoverage { get; init; }
    public double? SubsetAdherence { get; init; }
    public double? StructureF1 { get; init; }
    public required double InvalidRate { get; init; }
    public required int Errors { get; init; }
}

/// <summary>
/// The JSON files of CausalEval.Baseline, serialized by source-generated code: the model card (options set at run time,
/// <see cref="ModelCard"/>) and the demonstration lines of <c>baseline data</c> (<see cref="DemonstrationLine"/>).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(DemonstrationLine))]
internal sealed partial class BaselineJsonContext : JsonSerializerContext;
