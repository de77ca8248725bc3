using System.Text.Json;
using CausalEval.Core.Json;

namespace CausalEval.Core.Worlds;

/// <summary>The world file format of DESIGN §1.1.</summary>
public static class WorldJson
{
    public static World Load(string path) => Parse(JsonRead.ReadFile(path), path);

    public static World Parse(string json, string source) => Read(JsonRead.Parse(source, json));

    internal static World Read(JsonRead root)
    {
        root.OnlyFields("variables", "edges", "noise_sd", "hidden");
        var variables = root.Required("variables").Array().Select(v => v.String()).ToList();
        var edges = new List<Edge>();
        if (root.Optional("edges") is { } edgeArray)
        {
            foreach (var e in edgeArray.Array())
            {
                e.OnlyFields("from", "to", "weight");
                edges.Add(new Edge(e.Required("from").String(), e.Required("to").String(), e.Required("weight").Number()));
            }
        }
        var noise = root.Optional("noise_sd")?.Number() ?? 0.1;
        var hidden = root.Optional("hidden")?.Array().Select(h => h.String()).ToList() ?? [];
        var (world, field, problem) = World.TryCreate(variables, edges, noise, hidden);
        if (world is null)
        {
            var path = root.Path == "$" ? field! : $"{root.Path}.{field}";
            throw new InputException(root.Source, path, problem!);
        }
        return world;
    }

    public static void Write(Utf8JsonWriter writer, World world)
    {
        writer.WriteStartObject();
        writer.WriteStrings("variables", world.Variables);
        writer.WriteStartArray("edges");
        foreach (var e in world.Edges)
        {
            writer.WriteStartObject();
            writer.WriteString("from", e.From);
            writer.WriteString("to", e.To);
            writer.WriteNumber("weight", e.Weight);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteNumber("noise_sd", world.NoiseSd);
        writer.WriteStrings("hidden", world.Hidden);
        writer.WriteEndObject();
    }
}
