using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using CausalEval.Core.Json;

namespace CausalEval.Core.OddOneOut;

/// <summary>
/// One odd-one-out dataset line: id, split, seed, <c>concept</c>, the experiment trials (the objects' common values and
/// the value a transform gives along each dimension) and the exploit trial (<c>confounded</c>, and its <c>objects</c>
/// with name and one field per dimension), so a split can be checked from the file alone.
/// </summary>
public static class OddOneOutJson
{
    public static string ToLine(OddOneOutEpisode episode, string split)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, episode, split);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter writer, OddOneOutEpisode episode, string split)
    {
        writer.WriteStartObject();
        writer.WriteString("id", episode.Id);
        writer.WriteString("split", split);
        writer.WriteNumber("seed", episode.Seed);
        writer.WriteString("concept", episode.Concept.Name());
        writer.WriteStartArray("experiments");
        foreach (var trial in episode.Experiments)
        {
            writer.WriteStartObject();
            writer.WritePropertyName("object");
            WriteValues(writer, d => trial.Objects[0].Value(d));
            writer.WritePropertyName("transforms");
            WriteValues(writer, trial.TransformValue);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteStartObject("exploit");
        writer.WriteBoolean("confounded", episode.Confounded);
        writer.WritePropertyName("objects");
        WriteObjects(writer, episode.ExploitObjects);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Objects as <c>[{"name", "colour", "texture", "shape"}, …]</c> (trial lines use the same shape).</summary>
    public static void WriteObjects(Utf8JsonWriter writer, IEnumerable<OddObject> objects)
    {
        writer.WriteStartArray();
        foreach (var o in objects)
        {
            writer.WriteStartObject();
            writer.WriteString("name", o.Name);
            foreach (var d in Dimensions.All)
            {
                writer.WriteString(d.Name(), o.Value(d));
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static void WriteValues(Utf8JsonWriter writer, Func<Dimension, string> value)
    {
        writer.WriteStartObject();
        foreach (var d in Dimensions.All)
        {
            writer.WriteString(d.Name(), value(d));
        }
        writer.WriteEndObject();
    }

    /// <summary>Parses one line; <paramref name="source"/> names file and line for error messages.</summary>
    public static (OddOneOutEpisode Episode, string Split) Parse(string line, string source)
    {
        var root = JsonRead.Parse(source, line).Object();
        root.OnlyFields("id", "split", "seed", "concept", "experiments", "exploit");
        var id = root.Required("id").String();
        var split = root.Optional("split")?.String() ?? "test";
        var concept = ReadDimension(root.Required("concept"));
        var experiments = ImmutableArray.CreateBuilder<ExperimentTrial>();
        var experimentsField = root.Required("experiments");
        var list = experimentsField.Array();
        if (list.Count is < 1 or > 10)
        {
            throw experimentsField.Error($"expected 1 to 10 experiment trials, found {list.Count}");
        }
        foreach (var trial in list)
        {
            trial.OnlyFields("object", "transforms");
            var values = ReadValues(trial.Required("object"));
            var transformsField = trial.Required("transforms");
            var transforms = ReadValues(transformsField);
            foreach (var d in Dimensions.All)
            {
                if (transforms[(int)d] == values[(int)d])
                {
                    throw transformsField.Required(d.Name()).Error($"a transform must change the {d.Name()} (the objects are already {values[(int)d]})");
                }
            }
            experiments.Add(new ExperimentTrial(
                [.. OddOneOutEpisode.ObjectNames.Select(n => new OddObject(n, values[0], values[1], values[2]))], transforms));
        }
        var exploit = root.Required("exploit");
        exploit.OnlyFields("confounded", "objects");
        var objectsField = exploit.Required("objects");
        var objects = objectsField.Array();
        if (objects.Count != OddOneOutEpisode.ObjectNames.Length)
        {
            throw objectsField.Error($"expected {OddOneOutEpisode.ObjectNames.Length} objects, found {objects.Count}");
        }
        var exploitObjects = ImmutableArray.CreateBuilder<OddObject>(objects.Count);
        for (var i = 0; i < objects.Count; i++)
        {
            objects[i].OnlyFields("name", "colour", "texture", "shape");
            var nameField = objects[i].Required("name");
            if (nameField.String() != OddOneOutEpisode.ObjectNames[i])
            {
                throw nameField.Error($"expected object {OddOneOutEpisode.ObjectNames[i]} here, found '{nameField.String()}'");
            }
            var v = ReadValues(objects[i], withName: true);
            exploitObjects.Add(new OddObject(nameField.String(), v[0], v[1], v[2]));
        }
        OddOneOutEpisode episode;
        try
        {
            episode = new OddOneOutEpisode(id, root.Required("seed").UInt64(), concept, experiments.ToImmutable(), exploitObjects.MoveToImmutable());
        }
        catch (ArgumentException ex)
        {
            throw objectsField.Error(ex.Message);
        }
        if (exploit.Optional("confounded") is { } flag && flag.Bool() != episode.Confounded)
        {
            throw flag.Error($"says {(flag.Bool() ? "confounded" : "deconfounded")}, but the objects are {(episode.Confounded ? "confounded" : "not confounded")}");
        }
        return (episode, split);
    }

    private static Dimension ReadDimension(JsonRead field)
        => Dimensions.TryParse(field.String(), out var d) ? d : throw field.Error($"unknown dimension '{field.String()}' (expected colour, texture or shape)");

    private static ImmutableArray<string> ReadValues(JsonRead field, bool withName = false)
    {
        if (!withName)
        {
            field.OnlyFields("colour", "texture", "shape");
        }
        var values = new string[Dimensions.All.Length];
        foreach (var d in Dimensions.All)
        {
            var value = field.Required(d.Name());
            values[(int)d] = d.Values().Contains(value.String())
                ? value.String()
                : throw value.Error($"unknown {d.Name()} '{value.String()}' (expected one of {string.Join(", ", d.Values())})");
        }
        return [.. values];
    }
}
