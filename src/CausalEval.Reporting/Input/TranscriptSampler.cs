using System.Buffers;
using System.Text.Json;
using CausalEval.Core.Randomness;

namespace CausalEval.Reporting.Input;

/// <summary>
/// Picks the transcripts the HTML episode browser embeds, in one streaming pass with bounded memory: per task the
/// <see cref="EpisodesPerTask"/> episodes with the smallest stable hash of (task, episode id) — the same episodes
/// whatever the order of lines or runs — and of each, the first epoch of every entry (model × variant × naming), so
/// the browser can set models side by side on the same episode. Long strings (prompts, answers) are cut at
/// <see cref="MaxStringChars"/>, and when a task's transcripts pass its share of <see cref="MaxTotalBytes"/>, its
/// episodes with the largest hashes are dropped (one episode always stays).
/// </summary>
internal sealed class TranscriptSampler(int taskCount)
{
    public const int EpisodesPerTask = 25;
    public const int MaxTotalBytes = 12 << 20;
    public const int MaxStringChars = 20_000;

    private readonly long _bytesPerTask = MaxTotalBytes / Math.Max(1, taskCount);
    private readonly Dictionary<string, TaskSample> _tasks = new(StringComparer.Ordinal);

    /// <summary>Offers a trial line; keeps a compact copy when its episode is in the sample.</summary>
    public void Offer(string task, string episode, EntryKey entry, int epoch, int run, ReadOnlySpan<byte> json)
    {
        if (!_tasks.TryGetValue(task, out var sample))
        {
            _tasks[task] = sample = new TaskSample();
        }
        if (!sample.Episodes.TryGetValue(episode, out var kept))
        {
            if (!sample.Hashes.TryGetValue(episode, out var hash))
            {
                sample.Hashes[episode] = hash = StableId.Seed(task, episode);
            }
            if (hash >= sample.Threshold)
            {
                return;
            }
            sample.Episodes[episode] = kept = new SampledEpisode(hash);
        }
        var order = ((long)epoch << 20) | (uint)run;
        if (kept.Trials.TryGetValue(entry, out var existing) && existing.Order <= order)
        {
            return;
        }
        var compact = Compact(json);
        sample.Bytes += compact.Length - (existing.Json?.Length ?? 0);
        kept.Trials[entry] = (order, compact);
        while (sample.Episodes.Count > EpisodesPerTask || (sample.Bytes > _bytesPerTask && sample.Episodes.Count > 1))
        {
            var largest = sample.Episodes.MaxBy(p => p.Value.Hash);
            sample.Episodes.Remove(largest.Key);
            sample.Bytes -= largest.Value.Trials.Values.Sum(t => (long)t.Json.Length);
            sample.Threshold = largest.Value.Hash;
        }
    }

    /// <summary>The kept transcripts (compact JSON trial lines) in (task, episode, entry) order, and how many episodes each task kept.</summary>
    public (List<byte[]> Trials, Dictionary<string, int> EpisodesKept) Result()
    {
        var trials = new List<byte[]>();
        var kept = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (task, sample) in _tasks.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            kept[task] = sample.Episodes.Count;
            foreach (var (_, episode) in sample.Episodes.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                trials.AddRange(episode.Trials.OrderBy(p => p.Key).Select(p => p.Value.Json));
            }
        }
        return (trials, kept);
    }

    /// <summary>The line re-written with every string longer than <see cref="MaxStringChars"/> cut (and marked).</summary>
    internal static byte[] Compact(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        var buffer = new ArrayBufferWriter<byte>(json.Length);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, MaxDepth = 64 }))
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject: writer.WriteStartObject(); break;
                    case JsonTokenType.EndObject: writer.WriteEndObject(); break;
                    case JsonTokenType.StartArray: writer.WriteStartArray(); break;
                    case JsonTokenType.EndArray: writer.WriteEndArray(); break;
                    case JsonTokenType.PropertyName: writer.WritePropertyName(reader.GetString()!); break;
                    case JsonTokenType.String:
                        var text = reader.GetString()!;
                        writer.WriteStringValue(text.Length <= MaxStringChars
                            ? text
                            : string.Concat(text.AsSpan(0, MaxStringChars), $"… [cut: {text.Length - MaxStringChars:N0} more characters in trials.jsonl]"));
                        break;
                    case JsonTokenType.Number: writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break;
                    case JsonTokenType.True: writer.WriteBooleanValue(true); break;
                    case JsonTokenType.False: writer.WriteBooleanValue(false); break;
                    case JsonTokenType.Null: writer.WriteNullValue(); break;
                }
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    private sealed class TaskSample
    {
        public Dictionary<string, SampledEpisode> Episodes { get; } = new(StringComparer.Ordinal);

        /// <summary>Every episode's hash, computed once.</summary>
        public Dictionary<string, ulong> Hashes { get; } = new(StringComparer.Ordinal);

        /// <summary>Episodes whose hash is at least this were dropped (or never admitted) and stay out.</summary>
        public ulong Threshold { get; set; } = ulong.MaxValue;

        public long Bytes { get; set; }
    }

    private sealed class SampledEpisode(ulong hash)
    {
        public ulong Hash { get; } = hash;

        public Dictionary<EntryKey, (long Order, byte[] Json)> Trials { get; } = [];
    }
}
