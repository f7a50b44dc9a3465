import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CodecError } from './errors.ts'
import {
  childPath,
  comparePaths,
  formatPath,
  isPathPrefixOf,
  makePath,
  parentPath,
  parsePath,
  pathLevel,
  tryParsePath,
} from './path.ts'

describe('parsePath', () => {
  it('parses every depth', () => {
    expect(parsePath('/')).toEqual({})
    expect(parsePath('/3')).toEqual({ objectId: 3 })
    expect(parsePath('/3/0')).toEqual({ objectId: 3, instanceId: 0 })
    expect(parsePath('/3/0/1')).toEqual({ objectId: 3, instanceId: 0, resourceId: 1 })
    expect(parsePath('/3/0/6/1')).toEqual({ objectId: 3, instanceId: 0, resourceId: 6, resourceInstanceId: 1 })
  })

  it('accepts a trailing slash, as SenML base names carry one', () => {
    expect(parsePath('/3/0/')).toEqual({ objectId: 3, instanceId: 0 })
  })

  it('parses gateway-prefixed paths', () => {
    expect(parsePath('/dev0/3/0/1')).toEqual({ prefix: 'dev0', objectId: 3, instanceId: 0, resourceId: 1 })
    expect(parsePath('/dev0')).toEqual({ prefix: 'dev0' })
    expect(formatPath(parsePath('/dev0/3/0/1'))).toBe('/dev0/3/0/1')
  })

  it('accepts the id range 0-65534 and rejects 65535', () => {
    expect(parsePath('/65534/65534/65534/65534').resourceInstanceId).toBe(65534)
    expect(() => parsePath('/65535')).toThrow('Path: object id 65535 in "/65535" is out of range 0-65534')
    expect(() => parsePath('/3/70000')).toThrow(/instance id 70000 .* out of range/)
  })

  it('names the faulty segment', () => {
    expect(() => parsePath('')).toThrow('Path: empty path')
    expect(() => parsePath('3/0')).toThrow('Path: "3/0" does not start with "/"')
    expect(() => parsePath('/3//1')).toThrow('Path: empty segment in "/3//1"')
    expect(() => parsePath('/3/0/1/2/3')).toThrow('has 5 levels; at most 4 are allowed')
    expect(() => parsePath('/3/x')).toThrow('Path: instance id "x" in "/3/x" is not a decimal id')
    expect(() => parsePath('/3/01')).toThrow(/not a decimal id/)
    expect(() => parsePath('/3/-1')).toThrow(/not a decimal id/)
    expect(() => parsePath('/1abc/0')).toThrow(CodecError)
  })

  it('tryParsePath returns undefined instead of throwing', () => {
    expect(tryParsePath('/3/x')).toBeUndefined()
    expect(tryParsePath('/3/0')).toEqual({ objectId: 3, instanceId: 0 })
  })
})

describe('path helpers', () => {
  it('formats, levels, parents and children', () => {
    expect(formatPath({})).toBe('/')
    expect(pathLevel(parsePath('/3/0/1'))).toBe('resource')
    expect(pathLevel(parsePath('/'))).toBe('root')
    expect(formatPath(childPath(parsePath('/3/0'), 5))).toBe('/3/0/5')
    expect(formatPath(parentPath(parsePath('/dev1/3/0/5')))).toBe('/dev1/3/0')
    expect(() => makePath([1, 2, 3, 4, 5])).toThrow(/at most 4/)
  })

  it('orders numerically, parents first, by prefix', () => {
    const sorted = ['/10', '/3/0/1', '/3', '/3/0', '/3/0/10', '/3/0/2', '/a/1', '/1'].map(parsePath).sort(comparePaths).map(formatPath)
    expect(sorted).toEqual(['/1', '/3', '/3/0', '/3/0/1', '/3/0/2', '/3/0/10', '/10', '/a/1'])
  })

  it('knows ancestors', () => {
    expect(isPathPrefixOf(parsePath('/3'), parsePath('/3/0/1'))).toBe(true)
    expect(isPathPrefixOf(parsePath('/'), parsePath('/3/0/1'))).toBe(true)
    expect(isPathPrefixOf(parsePath('/3/1'), parsePath('/3/0/1'))).toBe(false)
    expect(isPathPrefixOf(parsePath('/3'), parsePath('/dev0/3/0'))).toBe(false)
  })

  it('round-trips any valid path through format and parse', () => {
    const id = fc.integer({ min: 0, max: 65534 })
    fc.assert(
      fc.property(fc.array(id, { maxLength: 4 }), fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), { nil: undefined }), (ids, prefix) => {
        const path = makePath(ids, prefix)
        expect(parsePath(formatPath(path))).toEqual(path)
      }),
    )
  })
})
