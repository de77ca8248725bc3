using System.Buffers;
using System.Text.Json;

namespace CausalEval.Core.Results;

/// <summary>Receives finished trials in plan order.</summary>
public interface IResultStore
{
    ValueTask AppendAsync(TrialRecord record, CancellationToken cancellationToken);
}

/// <summary>
/// Appends each finished trial to <c>trials.jsonl</c> as one whole line and flushes it, so a crash loses at most
/// the trials still in flight.
/// </summary>
public sealed class JsonlResultStore : IResultStore, IAsyncDisposable
{
    public const string FileName = "trials.jsonl";

    private readonly FileStream _stream;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    public JsonlResultStore(string runDirectory)
    {
        Path = System.IO.Path.Combine(runDirectory, FileName);
        _stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16);
        _writer = new Utf8JsonWriter(_buffer);
    }

    public string Path { get; }

    public long Written { get; private set; }

    public async ValueTask AppendAsync(TrialRecord record, CancellationToken cancellationToken)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        TrialJson.Write(_writer, record);
        _writer.Flush();
        _buffer.GetSpan(1)[0] = (byte)'\n';
        _buffer.Advance(1);
        await _stream.WriteAsync(_buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        Written++;
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
