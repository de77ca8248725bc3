using CausalEval.Core.Running;
using CausalEval.Models.Providers;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CausalEval.Cli;

/// <summary>
/// OTLP export of the run's spans and metrics (<see cref="RunTelemetry"/>, and the chat pipelines' GenAI telemetry under
/// <see cref="ChatProviders.TelemetrySource"/>), only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. The OpenTelemetry
/// SDK's exporter reads the standard variables itself (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>_HEADERS</c>, <c>_TIMEOUT</c>,
/// the per-signal endpoints; <c>OTEL_SERVICE_NAME</c> and <c>OTEL_RESOURCE_ATTRIBUTES</c> for the resource). Without the
/// variable nothing listens, so the sources cost next to nothing. Disposing flushes what is left.
/// </summary>
internal sealed class Telemetry : IDisposable
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private readonly TracerProvider _traces;
    private readonly MeterProvider _metrics;

    private Telemetry(TracerProvider traces, MeterProvider metrics)
    {
        _traces = traces;
        _metrics = metrics;
    }

    /// <summary>The exporters, or null when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is not set.</summary>
    public static Telemetry? FromEnvironment(Func<string, string?> environment)
    {
        if (string.IsNullOrWhiteSpace(environment(EndpointVariable)))
        {
            return null;
        }
        var resource = ResourceBuilder.CreateDefault();
        if (string.IsNullOrWhiteSpace(environment("OTEL_SERVICE_NAME")))
        {
            resource.AddService("causaleval", serviceVersion: BuildInfo.Version);
        }
        var traces = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource)
            .AddSource(RunTelemetry.Name, ChatProviders.TelemetrySource).AddOtlpExporter().Build();
        var metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource)
            .AddMeter(RunTelemetry.Name, ChatProviders.TelemetrySource).AddOtlpExporter().Build();
        return new Telemetry(traces, metrics);
    }

    public void Dispose()
    {
        _traces.Dispose();
        _metrics.Dispose();
    }
}

/// <summary>
/// <c>--verbose</c>: the chat pipelines' <see cref="ILogger"/> output (Microsoft.Extensions.AI's <c>UseLogging</c>: each
/// call to a provider, its options and how it ended; no prompt text below the trace level) as lines on standard error.
/// </summary>
internal sealed class ErrorStreamLogger(TextWriter error, LogLevel minimum) : ILoggerProvider, ILoggerFactory
{
    private readonly object _gate = new();

    public LogLevel Minimum => minimum;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("one provider: standard error");

    public void Dispose()
    {
    }

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        lock (_gate)
        {
            error.WriteLine($"{level.ToString().ToLowerInvariant()}: {category}: {message}");
            if (exception is not null)
            {
                error.WriteLine($"  {exception.GetType().Name}: {exception.Message}");
            }
        }
    }

    private sealed class Logger(ErrorStreamLogger owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Write(category, logLevel, formatter(state, exception), exception);
            }
        }
    }
}
