using System.Collections.Immutable;
using System.Text.Json;
using CausalEval.Core.Json;

namespace CausalEval.Core.OddOneOut;

/// <summary>
/// One odd-one-out dataset line: id, split, seed, <c>concept</c>, the experiment trials (the objects' common values and
/// the value a transform gives along each dimension) and the exploit trial (<c>confounded</c>, and its <c>objects</c>
/// with name and one field per dimension), so a split can be checked from the file alone (<see cref="OddOneOutLine"/>).
/// </summary>
public static class OddOneOutJson
{
    public static string ToLine(OddOneOutEpisode episode, string split) => JsonInput.ToLine(new OddOneOutLine
    {
        Id = episode.Id,
        Split = split,
        Seed = episode.Seed,
        Concept = episode.Concept.Name(),
        Experiments = [.. episode.Experiments.Select(t => new OddOneOutLine.ExperimentEntry(
            Values(d => t.Objects[0].Value(d)), Values(t.TransformValue)))],
        Exploit = new OddOneOutLine.ExploitEntry
        {
            Confounded = episode.Confounded,
            Objects = [.. episode.ExploitObjects.Select(o => new OddOneOutLine.ObjectEntry(o.Name, o.Colour, o.Texture, o.Shape))],
        },
    }, CoreJsonContext.Default.OddOneOutLine);

    private static OddOneOutLine.DimensionValues Values(Func<Dimension, string> value)
        => new(value(Dimension.Colour), value(Dimension.Texture), value(Dimension.Shape));

    /// <summary>Objects as <c>[{"name", "colour", "texture", "shape"}, …]</c> (the trial writer's hot path; dataset lines use the same shape).</summary>
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

    /// <summary>Parses one line; <paramref name="source"/> names file and line for error messages.</summary>
    public static (OddOneOutEpisode Episode, string Split) Parse(string line, string source)
    {
        var file = JsonInput.Deserialize(source, line, CoreJsonContext.Default.OddOneOutLine);
        var concept = Dimensions.TryParse(file.Concept, out var c)
            ? c
            : throw new InputException(source, "concept", $"unknown dimension '{file.Concept}' (expected colour, texture or shape)");
        var list = JsonInput.NoNullItems(file.Experiments, source, "experiments");
        if (list.Count is < 1 or > 10)
        {
            throw new InputException(source, "experiments", $"expected 1 to 10 experiment trials, found {list.Count}");
        }
        var experiments = ImmutableArray.CreateBuilder<ExperimentTrial>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var values = ToValues(list[i].Object, source, $"experiments[{i}].object");
            var transforms = ToValues(list[i].Transforms, source, $"experiments[{i}].transforms");
            foreach (var d in Dimensions.All)
            {
                if (transforms[(int)d] == values[(int)d])
                {
                    throw new InputException(source, $"experiments[{i}].transforms.{d.Name()}",
                        $"a transform must change the {d.Name()} (the objects are already {values[(int)d]})");
                }
            }
            experiments.Add(new ExperimentTrial(
                [.. OddOneOutEpisode.ObjectNames.Select(n => new OddObject(n, values[0], values[1], values[2]))], transforms));
        }
        var objects = JsonInput.NoNullItems(file.Exploit.Objects, source, "exploit.objects");
        if (objects.Count != OddOneOutEpisode.ObjectNames.Length)
        {
            throw new InputException(source, "exploit.objects", $"expected {OddOneOutEpisode.ObjectNames.Length} objects, found {objects.Count}");
        }
        var exploitObjects = ImmutableArray.CreateBuilder<OddObject>(objects.Count);
        for (var i = 0; i < objects.Count; i++)
        {
            var o = objects[i];
            if (o.Name != OddOneOutEpisode.ObjectNames[i])
            {
                throw new InputException(source, $"exploit.objects[{i}].name", $"expected object {OddOneOutEpisode.ObjectNames[i]} here, found '{o.Name}'");
            }
            var v = ToValues(new OddOneOutLine.DimensionValues(o.Colour, o.Texture, o.Shape), source, $"exploit.objects[{i}]");
            exploitObjects.Add(new OddObject(o.Name, v[0], v[1], v[2]));
        }
        OddOneOutEpisode episode;
        try
        {
            episode = new OddOneOutEpisode(file.Id, file.Seed, concept, experiments.MoveToImmutable(), exploitObjects.MoveToImmutable());
        }
        catch (ArgumentException ex)
        {
            throw new InputException(source, "exploit.objects", ex.Message);
        }
        if (file.Exploit.Confounded is { } flag && flag != episode.Confounded)
        {
            throw new InputException(source, "exploit.confounded",
                $"says {(flag ? "confounded" : "deconfounded")}, but the objects are {(episode.Confounded ? "confounded" : "not confounded")}");
        }
        return (episode, file.Split ?? "test");
    }

    private static ImmutableArray<string> ToValues(OddOneOutLine.DimensionValues file, string source, string path)
    {
        var values = new[] { file.Colour, file.Texture, file.Shape };
        foreach (var d in Dimensions.All)
        {
            if (!d.Values().Contains(values[(int)d]))
            {
                throw new InputException(source, $"{path}.{d.Name()}",
                    $"unknown {d.Name()} '{values[(int)d]}' (expected one of {string.Join(", ", d.Values())})");
            }
        }
        return [.. values];
    }
}

/// <summary>An odd-one-out dataset line as written (field order is the file's; <c>split</c> and <c>confounded</c> optional on read).</summary>
internal sealed record OddOneOutLine
{
    public required string Id { get; init; }
    public string? Split { get; init; }
    public required ulong Seed { get; init; }
    public required string Concept { get; init; }
    public required IReadOnlyList<ExperimentEntry?> Experiments { get; init; }
    public required ExploitEntry Exploit { get; init; }

    /// <summary>An experiment trial: the four objects' common values, and the value a transform gives per dimension.</summary>
    internal sealed record ExperimentEntry(DimensionValues Object, DimensionValues Transforms);

    internal sealed record DimensionValues(string Colour, string Texture, string Shape);

    internal sealed record ExploitEntry
    {
        public bool? Confounded { get; init; }
        public required IReadOnlyList<ObjectEntry?> Objects { get; init; }
    }

    internal sealed record ObjectEntry(string Name, string Colour, string Texture, string Shape);
}
