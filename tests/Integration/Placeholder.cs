namespace Ds01.Tests.Integration; internal static class Placeholder {}
