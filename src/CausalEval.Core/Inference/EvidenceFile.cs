using System.Collections.Immutable;
using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Inference;

/// <summary>
/// The evidence file of <c>causaleval infer</c>: the family (variables, hidden confounder, edge probability, σ), the
/// allowed values, an optional target and the samples, each <c>{"do": {"A": 5} | null, "values": {...}}</c>.
/// </summary>
public sealed record EvidenceFile(ObserverModel Model, ImmutableArray<double> AllowedValues, string? Target, ImmutableArray<EvidenceSample> Samples)
{
    /// <summary>Reads and checks a file; bad input is an <see cref="InputException"/> naming the field.</summary>
    public static EvidenceFile Load(string path) => Parse(path, JsonRead.ReadFile(path));

    public static EvidenceFile Parse(string source, string json)
    {
        var root = JsonRead.Parse(source, json).Object();
        root.OnlyFields("variables", "hidden_confounder", "edge_probability", "noise_sd", "allowed_values", "target", "samples");
        var variablesField = root.Required("variables");
        var variables = variablesField.Array().Select(v => v.String()).ToImmutableArray();
        if (variables.Length > SignedDagOptions.MaxVariables)
        {
            throw variablesField.Error($"at most {SignedDagOptions.MaxVariables} variables, got {variables.Length}");
        }
        var (_, field, problem) = World.TryCreate(variables, [], 0.1, []);
        if (problem is not null)
        {
            throw new InputException(source, field!, problem);
        }
        var model = new ObserverModel(
            variables,
            root.Optional("hidden_confounder")?.Bool() ?? false,
            root.Optional("edge_probability")?.Number() ?? ObserverModel.DefaultEdgeProbability,
            root.Optional("noise_sd")?.Number() ?? ObserverModel.DefaultNoiseSd);
        if (model.Validate() is { } invalid)
        {
            throw new InputException(source, invalid.Field, invalid.Problem);
        }
        var allowed = EpisodeOptions.DefaultAllowedValues;
        if (root.Optional("allowed_values") is { } values)
        {
            allowed = [.. values.Array().Select(v => v.Number())];
            if (allowed.Length == 0)
            {
                throw values.Error("at least one value is needed");
            }
        }
        string? target = null;
        if (root.Optional("target") is { } targetField)
        {
            target = targetField.String();
            if (!variables.Contains(target))
            {
                throw targetField.Error($"unknown variable '{target}' (variables: {string.Join(", ", variables)})");
            }
        }
        var samples = root.Required("samples").Array().Select(s => ReadSample(s, variables)).ToImmutableArray();
        return new EvidenceFile(model, allowed, target, samples);
    }

    private static EvidenceSample ReadSample(JsonRead sample, ImmutableArray<string> variables)
    {
        sample.Object().OnlyFields("do", "values");
        Intervention? action = null;
        if (sample.Optional("do") is { } doField)
        {
            var entries = doField.Object().Element.EnumerateObject().ToArray();
            if (entries.Length != 1)
            {
                throw doField.Error($"expected one variable and its value, found {entries.Length}");
            }
            if (!variables.Contains(entries[0].Name))
            {
                throw new InputException(doField.Source, $"{doField.Path}.{entries[0].Name}", "unknown variable");
            }
            action = new Intervention(entries[0].Name, doField.Required(entries[0].Name).Number());
        }
        var valuesField = sample.Required("values").Object();
        foreach (var property in valuesField.Element.EnumerateObject())
        {
            if (!variables.Contains(property.Name))
            {
                throw new InputException(valuesField.Source, $"{valuesField.Path}.{property.Name}", "unknown variable");
            }
        }
        var values = new double[variables.Length];
        for (var i = 0; i < variables.Length; i++)
        {
            var name = variables[i];
            if (action is { } a && a.Variable == name)
            {
                if (valuesField.Optional(name) is { } shown && shown.Number() != a.Value)
                {
                    throw shown.Error($"the intervened variable shows {shown.Number()}, not its value {a.Value}");
                }
                values[i] = a.Value;
                continue;
            }
            values[i] = valuesField.Required(name).Number();
        }
        return new EvidenceSample(action, [.. values]);
    }

    /// <summary>The ideal observer's answer as the JSON <c>infer</c> prints.</summary>
    public static string ToJson(EvidenceFile evidence, Posterior posterior, int topHypotheses = 5)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("hypotheses", posterior.Hypotheses);
            writer.WriteNumber("log_evidence", posterior.LogEvidence);
            if (evidence.Target is { } target)
            {
                var solution = posterior.Exploit(target, evidence.Model.Variables, evidence.AllowedValues);
                WriteActions(writer, "exploit", solution.Actions.Select(a => (a.Action, a.Expected)), "expected");
                WriteActions(writer, "bayes_exploit", solution.Optimal.Select(a => (a.Action, a.Expected)), "expected");
            }
            var (all, best) = posterior.Experiments(evidence.Model.Variables, evidence.AllowedValues);
            WriteActions(writer, "information", all.Select(e => (e.Experiment, e.Bits)), "bits");
            WriteActions(writer, "bayes_explore", best.Select(e => (e.Experiment, e.Bits)), "bits");
            writer.WriteNumber("neglected_mass_bound", posterior.NeglectedMass);
            writer.WriteStartArray("top_hypotheses");
            foreach (var hypothesis in posterior.Top(topHypotheses))
            {
                writer.WriteStartObject();
                writer.WriteNumber("probability", hypothesis.Probability);
                writer.WriteStartArray("edges");
                foreach (var edge in hypothesis.Edges)
                {
                    writer.WriteStringValue($"{edge.From}->{edge.To} ({(edge.Weight > 0 ? "+" : "-")})");
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteActions(Utf8JsonWriter writer, string name, IEnumerable<(Intervention Action, double Number)> items, string field)
    {
        writer.WriteStartArray(name);
        foreach (var (action, number) in items)
        {
            writer.WriteStartObject();
            writer.WriteString("variable", action.Variable);
            writer.WriteNumber("value", action.Value);
            writer.WriteNumber(field, number + 0.0);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
