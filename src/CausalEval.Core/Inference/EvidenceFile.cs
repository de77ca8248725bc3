using System.Collections.Immutable;
using System.Text.Json.Serialization;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Oracle;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Inference;

/// <summary>
/// The evidence file of <c>causaleval infer</c>: the family (variables, hidden confounder, edge probability, σ), the
/// allowed values, an optional target and the samples, each <c>{"do": {"A": 5} | null, "values": {...}}</c>
/// (read as <see cref="EvidenceInput"/>; the answer written as <see cref="InferOutput"/>).
/// </summary>
public sealed record EvidenceFile(ObserverModel Model, ImmutableArray<double> AllowedValues, string? Target, ImmutableArray<EvidenceSample> Samples)
{
    /// <summary>Reads and checks a file; bad input is an <see cref="InputException"/> naming the field.</summary>
    public static EvidenceFile Load(string path) => Parse(path, JsonRead.ReadFile(path));

    public static EvidenceFile Parse(string source, string json)
    {
        var file = JsonInput.Deserialize(source, json, CoreJsonContext.Default.EvidenceInput);
        var variables = JsonInput.NoNullItems(file.Variables, source, "variables").ToImmutableArray();
        if (variables.Length > SignedDagOptions.MaxVariables)
        {
            throw new InputException(source, "variables", $"at most {SignedDagOptions.MaxVariables} variables, got {variables.Length}");
        }
        var (_, field, problem) = World.TryCreate(variables, [], 0.1, []);
        if (problem is not null)
        {
            throw new InputException(source, field!, problem);
        }
        var model = new ObserverModel(
            variables,
            file.HiddenConfounder ?? false,
            file.EdgeProbability ?? ObserverModel.DefaultEdgeProbability,
            file.NoiseSd ?? ObserverModel.DefaultNoiseSd);
        if (model.Validate() is { } invalid)
        {
            throw new InputException(source, invalid.Field, invalid.Problem);
        }
        var allowed = EpisodeOptions.DefaultAllowedValues;
        if (file.AllowedValues is { } values)
        {
            allowed = [.. values];
            if (allowed.Length == 0)
            {
                throw new InputException(source, "allowed_values", "at least one value is needed");
            }
        }
        if (file.Target is { } target && !variables.Contains(target))
        {
            throw new InputException(source, "target", $"unknown variable '{target}' (variables: {string.Join(", ", variables)})");
        }
        var samples = JsonInput.NoNullItems(file.Samples, source, "samples")
            .Select((s, i) => ToSample(s, variables, source, $"samples[{i}]")).ToImmutableArray();
        return new EvidenceFile(model, allowed, file.Target, samples);
    }

    private static EvidenceSample ToSample(EvidenceInput.Sample sample, ImmutableArray<string> variables, string source, string path)
    {
        Intervention? action = null;
        if (sample.Do is { } act)
        {
            if (act.Count != 1)
            {
                throw new InputException(source, $"{path}.do", $"expected one variable and its value, found {act.Count}");
            }
            var (name, value) = act.First();
            if (!variables.Contains(name))
            {
                throw new InputException(source, $"{path}.do.{name}", "unknown variable");
            }
            action = new Intervention(name, value);
        }
        foreach (var name in sample.Values.Keys)
        {
            if (!variables.Contains(name))
            {
                throw new InputException(source, $"{path}.values.{name}", "unknown variable");
            }
        }
        var values = new double[variables.Length];
        for (var i = 0; i < variables.Length; i++)
        {
            var name = variables[i];
            var shown = sample.Values.TryGetValue(name, out var v) ? v : (double?)null;
            if (action is { } a && a.Variable == name)
            {
                if (shown is { } s && s != a.Value)
                {
                    throw new InputException(source, $"{path}.values.{name}", $"the intervened variable shows {s}, not its value {a.Value}");
                }
                values[i] = a.Value;
                continue;
            }
            values[i] = shown ?? throw new InputException(source, $"{path}.values.{name}", "required field is missing");
        }
        return new EvidenceSample(action, [.. values]);
    }

    /// <summary>The ideal observer's answer as the JSON <c>infer</c> prints.</summary>
    public static string ToJson(EvidenceFile evidence, Posterior posterior, int topHypotheses = 5)
    {
        List<ExpectedAction>? exploit = null, bayesExploit = null;
        if (evidence.Target is { } target)
        {
            var solution = posterior.Exploit(target, evidence.Model.Variables, evidence.AllowedValues);
            exploit = SolutionJson.Actions(solution.Actions);
            bayesExploit = SolutionJson.Actions(solution.Optimal);
        }
        var (all, best) = posterior.Experiments(evidence.Model.Variables, evidence.AllowedValues);
        var output = new InferOutput(
            posterior.Hypotheses,
            posterior.LogEvidence,
            exploit,
            bayesExploit,
            Bits(all),
            Bits(best),
            posterior.NeglectedMass,
            [.. posterior.Top(topHypotheses).Select(h => new InferOutput.RankedHypothesis(
                h.Probability, [.. h.Edges.Select(e => $"{e.From}->{e.To} ({(e.Weight > 0 ? "+" : "-")})")]))]);
        return JsonInput.ToIndented(output, CoreJsonContext.Default.InferOutput);
    }

    private static List<InferOutput.BitsAction> Bits(IEnumerable<ScoredExperiment> experiments)
        => [.. experiments.Select(e => new InferOutput.BitsAction(e.Experiment.Variable, e.Experiment.Value, e.Bits + 0.0))];
}

/// <summary>An evidence file as read (field order as DESIGN writes it; all but <c>variables</c> and <c>samples</c> optional).</summary>
internal sealed record EvidenceInput
{
    public required IReadOnlyList<string?> Variables { get; init; }
    public bool? HiddenConfounder { get; init; }
    public double? EdgeProbability { get; init; }
    public double? NoiseSd { get; init; }
    public IReadOnlyList<double>? AllowedValues { get; init; }
    public string? Target { get; init; }
    public required IReadOnlyList<Sample?> Samples { get; init; }

    /// <summary><c>do</c>: one variable and its value, or null for an observation.</summary>
    internal sealed record Sample
    {
        public Dictionary<string, double>? Do { get; init; }
        public required Dictionary<string, double> Values { get; init; }
    }
}

/// <summary><c>infer</c>'s output as written (<c>exploit</c> and <c>bayes_exploit</c> only with a target).</summary>
internal sealed record InferOutput(
    long Hypotheses,
    double LogEvidence,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ExpectedAction>? Exploit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ExpectedAction>? BayesExploit,
    IReadOnlyList<InferOutput.BitsAction> Information,
    IReadOnlyList<InferOutput.BitsAction> BayesExplore,
    double NeglectedMassBound,
    IReadOnlyList<InferOutput.RankedHypothesis> TopHypotheses)
{
    internal sealed record BitsAction(string Variable, double Value, double Bits);

    internal sealed record RankedHypothesis(double Probability, IReadOnlyList<string> Edges);
}
