/**
 * HuggingFace's checkpoint formats, for loading pretrained weights into the trainer and writing its models back out:
 * safetensors files read a tensor at a time and written as float32.
 */
package io.llmstream.trainer.hf;
