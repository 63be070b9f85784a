package io.llmstream.schemas.registry;

import org.apache.avro.Schema;

/** One version of a schema under a subject, with its global id. */
public record RegisteredSchema(String subject, int version, int id, Schema schema) {}
