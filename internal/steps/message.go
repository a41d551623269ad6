package steps

import "github.com/aiflow/aiflow/internal/task"

// Message is the body of a task step's SQS message, as the workflow
// compiler writes it: see package task, which owns the contract.
type Message = task.Message

// Execution names the execution a task belongs to: ID is its ARN.
type Execution = task.Execution

// StepInfo is the step of a task: its id, kind, attempt and entered time.
type StepInfo = task.Step
