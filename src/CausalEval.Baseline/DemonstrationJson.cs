using System.Text;
using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;
using CausalEval.Core.Worlds;

namespace CausalEval.Baseline;

/// <summary>One line of <c>causaleval baseline data</c>: which train episode a recipe uses, with its world, target and subset.</summary>
internal static class DemonstrationJson
{
    public static string Line(TaskDefinition task, Episode episode)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("task", task.Id);
            writer.WriteNumber("task_version", task.Version);
            writer.WriteString("split", Demonstrations.Split);
            writer.WriteString("episode", episode.Id);
            writer.WritePropertyName("world");
            WorldJson.Write(writer, episode.World);
            writer.WriteString("target", episode.Target);
            if (episode.Options.Subset.IsDefault)
            {
                writer.WriteNull("subset");
            }
            else
            {
                writer.WriteStartArray("subset");
                foreach (var name in episode.Options.Subset)
                {
                    writer.WriteStringValue(name);
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
