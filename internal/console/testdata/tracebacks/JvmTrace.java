public class JvmTrace {
    static void read() throws java.io.IOException {
        throw new java.io.IOException("shard 7 is unreadable");
    }
    static void train() {
        try {
            read();
        } catch (java.io.IOException e) {
            IllegalStateException outer = new IllegalStateException("training failed", e);
            outer.addSuppressed(new RuntimeException("cleanup failed"));
            throw outer;
        }
    }
    public static void main(String[] args) {
        train();
    }
}
