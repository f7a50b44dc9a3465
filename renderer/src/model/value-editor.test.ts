import { describe, expect, it } from 'vitest'
import { displayValue, editorKindFor, editorText, parseAttributeFields, parseEditorValue, parseExecuteArgs, parseHex, parseTime } from './value-editor.ts'

describe('parseEditorValue', () => {
  it('reads integers, keeping 64-bit values exact as decimal strings', () => {
    expect(parseEditorValue('integer', ' 120 ')).toEqual({ ok: true, value: 120 })
    expect(parseEditorValue('integer', '-5')).toEqual({ ok: true, value: -5 })
    expect(parseEditorValue('integer', '9223372036854775807')).toEqual({ ok: true, value: '9223372036854775807' })
    expect(parseEditorValue('integer', '9223372036854775808')).toMatchObject({ ok: false, error: expect.stringMatching(/64-bit/) })
    expect(parseEditorValue('integer', '1.5')).toMatchObject({ ok: false, error: expect.stringMatching(/not an integer/) })
    expect(parseEditorValue('unsigned', '-1')).toMatchObject({ ok: false, error: expect.stringMatching(/negative/) })
    expect(parseEditorValue('unsigned', '18446744073709551615')).toEqual({ ok: true, value: '18446744073709551615' })
  })

  it('reads floats, booleans, strings and object links', () => {
    expect(parseEditorValue('float', '36.6')).toEqual({ ok: true, value: 36.6 })
    expect(parseEditorValue('float', '')).toMatchObject({ ok: false })
    expect(parseEditorValue('float', 'abc')).toMatchObject({ ok: false, error: '"abc" is not a number' })
    expect(parseEditorValue('boolean', 'TRUE')).toEqual({ ok: true, value: true })
    expect(parseEditorValue('boolean', '0')).toEqual({ ok: true, value: false })
    expect(parseEditorValue('boolean', 'yes')).toMatchObject({ ok: false })
    expect(parseEditorValue('string', ' keep spaces ')).toEqual({ ok: true, value: ' keep spaces ' })
    expect(parseEditorValue('objlnk', '3 : 0')).toEqual({ ok: true, value: '3:0' })
    expect(parseEditorValue('objlnk', '70000:0')).toMatchObject({ ok: false, error: expect.stringMatching(/out of range/) })
    expect(parseEditorValue('objlnk', '3/0')).toMatchObject({ ok: false })
    expect(parseEditorValue('none', 'x')).toMatchObject({ ok: false, error: expect.stringMatching(/execute/) })
  })

  it('reads opaque as hex in several spellings', () => {
    expect(parseHex('0xDE AD:be ef')).toEqual({ ok: true, value: 'deadbeef' })
    expect(parseHex('abc')).toMatchObject({ ok: false, error: expect.stringMatching(/odd number/) })
    expect(parseHex('zz')).toMatchObject({ ok: false, error: expect.stringMatching(/hex digits/) })
    expect(parseEditorValue('opaque', '')).toEqual({ ok: true, value: '' })
  })

  it('reads times as epoch seconds or ISO dates', () => {
    expect(parseTime('1367491215')).toEqual({ ok: true, value: 1367491215 })
    expect(parseTime('2013-05-02T10:40:15Z')).toEqual({ ok: true, value: 1367491215 })
    expect(parseTime('yesterday')).toMatchObject({ ok: false })
    expect(parseTime('2013-13-45')).toMatchObject({ ok: false, error: expect.stringMatching(/not a valid date/) })
  })
})

describe('editor helpers', () => {
  it('picks an editor per type', () => {
    expect(editorKindFor('integer')).toBe('number')
    expect(editorKindFor('float')).toBe('number')
    expect(editorKindFor('boolean')).toBe('boolean')
    expect(editorKindFor('time')).toBe('time')
    expect(editorKindFor('opaque')).toBe('opaque')
    expect(editorKindFor('objlnk')).toBe('objlnk')
    expect(editorKindFor('corelnk')).toBe('string')
    expect(editorKindFor(undefined)).toBe('string')
  })

  it('starts editors from the current value, and displays values readably', () => {
    expect(editorText('time', 1367491215)).toBe('2013-05-02T10:40:15Z')
    expect(editorText('integer', 250)).toBe('250')
    expect(editorText('boolean', undefined)).toBe('false')
    expect(displayValue('time', 0)).toBe('1970-01-01 00:00:00Z')
    expect(displayValue('opaque', 'ab'.repeat(40))).toBe(`0x${'ab'.repeat(16)}… (40 bytes)`)
    expect(displayValue('float', 0.1 + 0.2)).toBe('0.3')
    expect(displayValue('boolean', true)).toBe('true')
  })

  it('checks execute arguments', () => {
    expect(parseExecuteArgs('')).toEqual({ ok: true, value: undefined })
    expect(parseExecuteArgs("0='fast',1")).toEqual({ ok: true, value: "0='fast',1" })
    expect(parseExecuteArgs('10')).toMatchObject({ ok: false })
    expect(parseExecuteArgs("0='a',0")).toMatchObject({ ok: false, error: expect.stringMatching(/twice/) })
  })

  it('reads the write-attributes form', () => {
    expect(parseAttributeFields({ pmin: '1', pmax: '30', gt: '', lt: '', st: '0.5' })).toEqual({ ok: true, value: { pmin: 1, pmax: 30, st: 0.5 } })
    expect(parseAttributeFields({ pmin: '-', pmax: '', gt: '', lt: '', st: '' })).toEqual({ ok: true, value: { pmin: null } })
    expect(parseAttributeFields({ pmin: '', pmax: '', gt: '', lt: '', st: '' })).toMatchObject({ ok: false })
    expect(parseAttributeFields({ pmin: '10', pmax: '5', gt: '', lt: '', st: '' })).toMatchObject({ ok: false, error: 'pmax 5 is below pmin 10' })
    expect(parseAttributeFields({ pmin: '1.5', pmax: '', gt: '', lt: '', st: '' })).toMatchObject({ ok: false })
    expect(parseAttributeFields({ pmin: '', pmax: '', gt: '10', lt: '20', st: '' })).toMatchObject({ ok: false, error: expect.stringMatching(/lt 20/) })
    expect(parseAttributeFields({ pmin: '', pmax: '', gt: '', lt: '', st: '-1' })).toMatchObject({ ok: false })
  })
})
