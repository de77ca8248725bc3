using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tasks;

/// <summary>One dataset line: an episode with its world, goal and options, as one JSON object.</summary>
public static class EpisodeJson
{
    private static readonly JsonWriterOptions LineOptions = new() { Indented = false, SkipValidation = false };

    public static string ToLine(Episode episode, string split)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, LineOptions))
        {
            Write(writer, episode, split);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter writer, Episode episode, string split)
    {
        var options = episode.Options;
        writer.WriteStartObject();
        writer.WriteString("id", episode.Id);
        writer.WriteString("split", split);
        writer.WriteNumber("seed", episode.Seed);
        writer.WritePropertyName("world");
        WorldJson.Write(writer, episode.World);
        writer.WriteString("target", episode.Target);
        if (options.Subset.IsDefault)
        {
            writer.WriteNull("subset");
        }
        else
        {
            writer.WriteStrings("subset", options.Subset);
        }
        writer.WriteStringOrNull("heldout_link", options.HeldoutLink?.ToString());
        writer.WriteNumberOrNull("explore_steps", options.ExploreSteps);
        writer.WriteBoolean("goal_first", options.GoalFirst);
        writer.WriteBoolean("ask_structure", options.AskStructure);
        writer.WriteStartArray("allowed_values");
        foreach (var v in options.AllowedValues)
        {
            writer.WriteNumberValue(v);
        }
        writer.WriteEndArray();
        if (options.Evidence is { } evidence)
        {
            writer.WriteStartObject("evidence");
            writer.WriteString("condition", evidence.Condition);
            writer.WriteStartArray("samples");
            foreach (var sample in evidence.Samples)
            {
                writer.WriteStartObject();
                writer.WriteIntervention("do", sample.Intervention);
                WriteValues(writer, "values", episode.World.Observable, sample.Values);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("evidence");
        }
        writer.WriteEndObject();
    }

    /// <summary>Observed values as an object keyed by variable name, in observation order.</summary>
    public static void WriteValues(Utf8JsonWriter writer, string property, ImmutableArray<string> names, ImmutableArray<double> values)
    {
        writer.WriteStartObject(property);
        for (var i = 0; i < names.Length; i++)
        {
            writer.WriteNumber(names[i], values[i]);
        }
        writer.WriteEndObject();
    }


    /// <summary>Parses one line; <paramref name="source"/> names file and line for error messages.</summary>
    public static (Episode Episode, string Split) Parse(string line, string source)
    {
        var root = JsonRead.Parse(source, line).Object();
        root.OnlyFields("id", "split", "seed", "world", "target", "subset", "heldout_link", "explore_steps",
            "goal_first", "ask_structure", "allowed_values", "evidence");
        var id = root.Required("id").String();
        var split = root.Optional("split")?.String() ?? "test";
        var world = WorldJson.Read(root.Required("world"));
        var targetField = root.Required("target");
        var target = targetField.String();
        if (world.IndexOf(target) < 0)
        {
            throw targetField.Error($"target '{target}' is not a variable of the world");
        }
        if (!world.IsObservable(target))
        {
            throw targetField.Error($"target '{target}' is hidden");
        }
        var subset = default(ImmutableArray<string>);
        if (root.Optional("subset") is { } subsetField)
        {
            subset = [.. subsetField.Array().Select(m => m.String())];
            foreach (var (member, i) in subset.Select((m, i) => (m, i)))
            {
                if (!world.IsObservable(member))
                {
                    throw new InputException(source, $"subset[{i}]", $"'{member}' is not an observable variable");
                }
            }
            if (subset.Distinct().Count() != subset.Length || subset.Length == 0)
            {
                throw subsetField.Error("subset must list different variables, at least one");
            }
        }
        DirectedLink? heldout = null;
        if (root.Optional("heldout_link") is { } linkField)
        {
            var link = TaskJson.ReadLink(linkField);
            if (world.IndexOf(link.From) < 0 || world.IndexOf(link.To) < 0)
            {
                throw linkField.Error($"link {link} names a variable the world does not have");
            }
            heldout = link;
        }
        var values = root.Optional("allowed_values") is { } v ? TaskJson.ReadAllowedValues(v) : EpisodeOptions.DefaultAllowedValues;
        var options = new EpisodeOptions
        {
            Subset = subset,
            HeldoutLink = heldout,
            ExploreSteps = root.Optional("explore_steps")?.Int(0, 100),
            GoalFirst = root.Optional("goal_first")?.Bool() ?? false,
            AskStructure = root.Optional("ask_structure")?.Bool() ?? false,
            AllowedValues = values,
            Evidence = root.Optional("evidence") is { } evidence ? ReadEvidence(evidence, world) : null,
        };
        var episode = new Episode(id, world, target, root.Required("seed").UInt64(), options);
        if (episode.Solution.Actions.Length == 0)
        {
            throw targetField.Error("the goal leaves no variable to set (every allowed variable is the target)");
        }
        if (!(episode.Solution.OptimalValue > 0))
        {
            throw targetField.Error($"no allowed action raises '{target}' (best expected value {episode.Solution.OptimalValue}), so the score has no scale");
        }
        return (episode, split);
    }

    private static PassiveEvidence ReadEvidence(JsonRead field, World world)
    {
        field.OnlyFields("condition", "samples");
        var condition = field.Required("condition").String();
        if (!PassiveEvidence.Conditions.Contains(condition))
        {
            throw field.Required("condition").Error($"unknown condition '{condition}'");
        }
        var samples = ImmutableArray.CreateBuilder<EvidenceSample>();
        foreach (var sample in field.Required("samples").Array())
        {
            sample.OnlyFields("do", "values");
            Intervention? intervention = null;
            if (sample.Optional("do") is { } act)
            {
                act.OnlyFields("variable", "value");
                var variable = act.Required("variable").String();
                if (!world.IsObservable(variable))
                {
                    throw act.Required("variable").Error($"'{variable}' is not an observable variable");
                }
                intervention = new Intervention(variable, act.Required("value").Number());
            }
            var valuesField = sample.Required("values").Object();
            var values = new double[world.Observable.Length];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = valuesField.Required(world.Observable[i]).Number();
            }
            samples.Add(new EvidenceSample(intervention, [.. values]));
        }
        return new PassiveEvidence(condition, samples.ToImmutable());
    }
}
